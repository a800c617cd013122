//! A small HTTP server in the test that serves Client ID Metadata Documents
//! on 127.0.0.1 and records every request it gets, so "refused before
//! connecting" is checked by what it never saw.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

/// What the document server answers on one path.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Waits this long before answering.
    pub delay: Duration,
    /// Sends no Content-Length (the body ends when the connection closes).
    pub no_length: bool,
}

impl Reply {
    pub fn new(status: u16, header: (&str, &str), body: &[u8]) -> Reply {
        Reply {
            status,
            headers: vec![(header.0.into(), header.1.into())],
            body: body.to_vec(),
            delay: Duration::ZERO,
            no_length: false,
        }
    }

    pub fn json(v: &Value) -> Reply {
        Reply::new(
            200,
            ("Content-Type", "application/json"),
            v.to_string().as_bytes(),
        )
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 answering each path with its `Reply`
/// (404 otherwise), one thread per connection, recording each path asked.
pub struct DocServer {
    pub port: u16,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl DocServer {
    pub fn start() -> DocServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let replies: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, h) = (replies.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, h) = (r.clone(), h.clone());
                std::thread::spawn(move || serve(stream, &r, &h));
            }
        });
        DocServer {
            port,
            replies,
            hits,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.into(), reply);
    }

    /// Serves a client metadata document for `id` at `path`.
    pub fn document(&self, path: &str, doc: Value) {
        self.set(path, Reply::json(&doc));
    }

    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn serve(mut s: TcpStream, replies: &Mutex<HashMap<String, Reply>>, hits: &Mutex<Vec<String>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    hits.lock().unwrap().push(path.clone());
    let reply = replies.lock().unwrap().get(&path).cloned();
    let reply = reply.unwrap_or(Reply::new(
        404,
        ("Content-Type", "text/plain"),
        b"not found",
    ));
    std::thread::sleep(reply.delay);
    let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !reply.no_length {
        out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    out.push_str("\r\n");
    let _ = s.write_all(out.as_bytes());
    let _ = s.write_all(&reply.body);
}

/// A good document for `id`.
pub fn document(id: &str, name: &str, uris: &[&str]) -> Value {
    json!({
        "client_id": id,
        "client_name": name,
        "redirect_uris": uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        // ChatGPT's form: the plural field, none among others.
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "client_uri": "https://agent.example",
    })
}
