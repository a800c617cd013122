//! A browser for the `e2e` tests: Debian's chromium driven through
//! chromedriver with `fantoccini`, clicking by visible label, as a person
//! would. Plain blocking code; `Driver` runs fantoccini's futures on a small
//! runtime of its own. Screenshots land in target/screenshots/ for a human
//! to look at, and a failing test leaves one of the page it failed on
//! (`FAILED-<test>.png`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::{TestServer, PASSWORD};

pub struct Driver {
    pub rt: tokio::runtime::Runtime,
    client: Option<Client>,
    child: Child,
    _profile: tempfile::TempDir,
}

pub fn screenshot_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if std::thread::panicking() {
                // The test's thread is named after the test.
                let name = std::thread::current()
                    .name()
                    .unwrap_or("unknown")
                    .replace("::", "-");
                if let Ok(png) = self.rt.block_on(client.screenshot()) {
                    let _ = std::fs::create_dir_all(screenshot_dir());
                    let _ =
                        std::fs::write(screenshot_dir().join(format!("FAILED-{name}.png")), png);
                }
            }
            let _ = self.rt.block_on(client.close());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Driver {
    pub fn start() -> Driver {
        Self::start_sized(1280, 800)
    }

    /// A browser window of this size (390 × 844 is a phone).
    pub fn start_sized(width: u32, height: u32) -> Driver {
        Self::start_with(width, height, &[])
    }

    /// A true phone viewport: headless chromium will not make a window
    /// narrower than 500 px, so `start_sized(390, …)` lays pages out at
    /// 500; this emulates the device's metrics instead (`innerWidth` is
    /// `width`), with extra chromium switches.
    pub fn start_phone(width: u32, height: u32, extra: &[&str]) -> Driver {
        Self::launch(width, height, extra, true)
    }

    /// With extra chromium switches (a colour scheme, say).
    pub fn start_with(width: u32, height: u32, extra: &[&str]) -> Driver {
        Self::launch(width, height, extra, false)
    }

    fn launch(width: u32, height: u32, extra: &[&str], emulate: bool) -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (apt install chromium-driver)");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": args
        });
        if emulate {
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 }
            });
        }
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        // chromedriver takes a moment to listen.
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match rt.block_on(
                ClientBuilder::new(connector.clone())
                    .capabilities(caps.clone())
                    .connect(&base),
            ) {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "chromedriver did not start: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        Driver {
            rt,
            client: Some(client),
            child,
            _profile: profile,
        }
    }

    pub fn c(&self) -> &Client {
        self.client.as_ref().expect("session")
    }

    pub fn goto(&self, url: &str) {
        self.rt.block_on(self.c().goto(url)).expect("goto");
    }

    pub fn url(&self) -> String {
        self.rt
            .block_on(self.c().current_url())
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    pub fn find_all(&self, xpath: &str) -> Vec<Element> {
        self.rt
            .block_on(self.c().find_all(Locator::XPath(xpath)))
            .unwrap_or_default()
    }

    /// Waits for an element (pages load after clicks).
    pub fn find(&self, xpath: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.find_all(xpath).into_iter().next() {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no element {xpath} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, xpath: &str) {
        let e = self.find(xpath);
        self.rt.block_on(e.click()).expect("click");
    }

    /// Clicks a button or link by its visible text.
    pub fn click_label(&self, label: &str) {
        self.click(&format!(
            "//*[self::button or self::a or self::summary][normalize-space()={}]",
            xpath_literal(label)
        ));
    }

    /// Clicks a submit button by its visible text and waits until the
    /// browser shows the next document: a page that answers with the same
    /// form (a refused login) would otherwise let the next step find the old
    /// page's elements mid-navigation.
    pub fn submit_label(&self, label: &str) {
        self.submit(&format!(
            "//*[self::button or self::a or self::summary][normalize-space()={}]",
            xpath_literal(label)
        ));
    }

    /// `submit_label` for a button found by XPath.
    pub fn submit(&self, xpath: &str) {
        let button = self.find(xpath);
        self.rt
            .block_on(self.c().execute("window.__pagegrant_old = true", vec![]))
            .expect("mark page");
        self.rt.block_on(button.click()).expect("click");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let fresh = self
                .rt
                .block_on(self.c().execute(
                    "return window.__pagegrant_old !== true && document.readyState === 'complete'",
                    vec![],
                ))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if fresh {
                return;
            }
            assert!(Instant::now() < deadline, "no new page on {}", self.url());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types into the field whose <label> reads `label`.
    pub fn fill(&self, label: &str, text: &str) {
        let lab = self.find(&format!(
            "//label[normalize-space()={}]",
            xpath_literal(label)
        ));
        let id = self
            .rt
            .block_on(lab.attr("for"))
            .expect("attr")
            .expect("label has for=");
        let field = self.find(&format!("//*[@id={}]", xpath_literal(&id)));
        self.rt.block_on(field.clear()).expect("clear");
        self.rt.block_on(field.send_keys(text)).expect("type");
    }

    /// Types into the page picker's search box.
    pub fn fill_search(&self, text: &str) {
        let field = self.find("//input[@aria-label='Search pages']");
        self.rt.block_on(field.clear()).expect("clear");
        if !text.is_empty() {
            self.rt.block_on(field.send_keys(text)).expect("type");
        }
        // `clear` fires no input event; send one so the filter runs.
        let arg = serde_json::to_value(&field).expect("element");
        self.rt
            .block_on(
                self.c()
                    .execute("arguments[0].dispatchEvent(new Event('input'))", vec![arg]),
            )
            .expect("script");
    }

    /// Reloads the current page (a GET: the browser does not re-post).
    pub fn reload(&self) {
        self.rt.block_on(self.c().refresh()).expect("reload");
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.c().set_window_size(width, height))
            .expect("resize");
    }

    /// Screenshots at a desktop and a phone width, then back to desktop.
    pub fn screenshot_both(&self, name: &str) {
        self.screenshot(&format!("{name}-1280"));
        self.resize(390, 844);
        self.screenshot(&format!("{name}-390"));
        self.resize(1280, 800);
    }

    pub fn text(&self, xpath: &str) -> String {
        let e = self.find(xpath);
        self.rt.block_on(e.text()).unwrap_or_default()
    }

    /// The current value of a form field (a property, not the attribute).
    pub fn value(&self, xpath: &str) -> String {
        let e = self.find(xpath);
        self.rt
            .block_on(e.prop("value"))
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub fn enter_frame(&self, xpath: &str) {
        let f = self.find(xpath);
        self.rt.block_on(f.enter_frame()).expect("frame");
    }

    pub fn screenshot(&self, name: &str) {
        let png = self.rt.block_on(self.c().screenshot()).expect("png");
        let _ = std::fs::create_dir_all(screenshot_dir());
        let _ = std::fs::write(screenshot_dir().join(format!("{name}.png")), png);
    }

    pub fn login_as(&self, srv: &TestServer, email: &str) {
        self.goto(&srv.url("/login"));
        self.fill("Email", email);
        self.fill("Password", PASSWORD);
        self.click_label("Log in");
        self.find("//aside[@aria-label='Sidebar']");
    }
}

/// Waits (up to 10 s) for what a click's form submission should bring about:
/// the click returns before the browser has posted the form.
pub fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: did not happen");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
