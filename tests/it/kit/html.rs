//! Reading the server's HTML as a browser does, with a real parser
//! (`scraper`): attribute values come back with their entities decoded, and
//! markup in text or comments is never mistaken for an element. Tests about
//! the raw bytes (escaping, S49) read the text itself instead.

use scraper::{ElementRef, Html, Selector};

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e}"))
}

/// A CSS string literal holding `s`.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every element matching the CSS selector `css`, in document order.
pub fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&selector(css)).collect()
}

/// The `value` of the first element named `name` that has one (a form
/// field: `<input name="NAME" value="...">`, a button, a hidden field).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    attr(html, &format!("[name={}][value]", quoted(name)), "value")
}

/// The value of a read-only copy field, by its `id`.
pub fn field_by_id(page: &str, id: &str) -> Option<String> {
    attr(page, &format!("input[id={}]", quoted(id)), "value")
}

/// Attribute `name` of the first element matching `css`.
pub fn attr(html: &str, css: &str, name: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let found = doc.select(&selector(css)).next()?;
    found.value().attr(name).map(str::to_string)
}

/// Attribute `name` of every element matching `css` that has it.
pub fn attrs(html: &str, css: &str, name: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let found = doc
        .select(&selector(css))
        .filter_map(|e| e.value().attr(name).map(str::to_string))
        .collect();
    found
}

/// Whether some element matches `css`.
pub fn has(html: &str, css: &str) -> bool {
    Html::parse_document(html)
        .select(&selector(css))
        .next()
        .is_some()
}

/// The `value`s of the form fields named `name`, in document order.
pub fn input_values(html: &str, name: &str) -> Vec<String> {
    attrs(html, &format!("[name={}][value]", quoted(name)), "value")
}

/// The `href` of every link, entities decoded.
pub fn links(html: &str) -> Vec<String> {
    attrs(html, "a[href]", "href")
}

/// The text of the first element matching `css`, whitespace collapsed.
pub fn text_of(html: &str, css: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let found = doc.select(&selector(css)).next()?;
    Some(collapse(&found.text().collect::<String>()))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the checkbox or radio button `name` with `value` is ticked;
/// `None` when the page has no such field.
pub fn checked(html: &str, name: &str, value: &str) -> Option<bool> {
    let doc = Html::parse_document(html);
    let css = format!("input[name={}][value={}]", quoted(name), quoted(value));
    let found = doc.select(&selector(&css)).next()?;
    Some(found.value().attr("checked").is_some())
}

/// The `value`s of the ticked checkboxes and radio buttons on the page.
pub fn checked_values(html: &str) -> Vec<String> {
    attrs(html, "input[checked][value]", "value")
}

/// Entity-decoded text, for tests that read raw text rather than elements.
pub fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
