//! One-time notes for Post/Redirect/Get: a POST that makes a secret (a new
//! integration, a rotated client secret) redirects with the secret sealed
//! in a short-lived cookie, and the page it redirects to opens it once and
//! deletes it, so a reload neither repeats the action nor shows the secret
//! again.
//!
//! Success messages travel the same way (issue 27): Settings → Connections
//! says "Disconnected ‹name›" once, not again on a reload, and no flag in
//! the address bar repeats it.
//!
//! The cookie is sealed with the app's `SecretBox` (AES-256-GCM, the key
//! that already guards internal tokens at rest), bound to the session and
//! to the integration it concerns, lives five minutes at most, and is sent
//! only under the path it was sealed for (`/developers`, one workspace's
//! `/w/‹id›`, or the one page it is for: Members shows a new invitation's
//! link so), HttpOnly and SameSite=Strict. Deleting the cookie
//! is the browser's part; the server's is to remember each note it opened
//! (by a random id, until the note would have expired anyway), so a copy of
//! the cookie replayed within its lifetime shows nothing (S80).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::crypto::SecretBox;
use crate::db::models::{now, Session};
use crate::error::AppResult;

const NAME: &str = "pg_once";
const PATH: &str = "/developers";
const TTL_S: i64 = 300;

/// What the page redirected to shows once.
#[derive(Serialize, Deserialize, Default)]
pub struct Note {
    /// What happened: "created", "rotated", "deleted".
    pub event: String,
    /// The integration it concerns (its id), if it still exists.
    pub integration: Option<String>,
    /// The integration's name, for the flash.
    pub name: String,
    pub client_secret: Option<String>,
    pub internal_token: Option<String>,
    /// What the note is about, by id, for a page that names it when it
    /// shows the note (an integration the Enterprise block changed).
    #[serde(default)]
    pub about: Option<String>,
}

impl std::fmt::Debug for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Note")
            .field("event", &self.event)
            .field("integration", &self.integration)
            .field("secrets", &"<hidden>")
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Sealed<N> {
    /// Random, so the server can tell a replay from the first opening.
    id: String,
    session: String,
    expires_at: i64,
    /// The path the note is for (`PATH`, or a page's own), so a copy sent
    /// to another page shows nothing there.
    #[serde(default)]
    path: Option<String>,
    note: N,
}

fn build(value: String, secure: bool, max_age: i64, path: &str) -> Cookie<'static> {
    let mut c = Cookie::build(NAME, value)
        .path(path.to_string())
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish();
    c.set_max_age(CookieDuration::seconds(max_age));
    c
}

/// The cookie carrying `note` to the next page of this session, or `None`
/// if it could not be sealed (the page then simply shows no note).
pub fn seal(
    sbox: &SecretBox,
    session: &Session,
    secure: bool,
    note: Note,
) -> Option<Cookie<'static>> {
    seal_at(sbox, session, secure, PATH, &note)
}

/// `seal` for any page's note: the cookie is sent only to `path` (and
/// below it) and opens only there.
pub fn seal_at<N: Serialize>(
    sbox: &SecretBox,
    session: &Session,
    secure: bool,
    path: &str,
    note: &N,
) -> Option<Cookie<'static>> {
    let sealed = Sealed {
        id: crate::crypto::random_token(16),
        session: session.id_hash.clone(),
        expires_at: now() + TTL_S,
        path: (path != PATH).then(|| path.to_string()),
        note,
    };
    let json = serde_json::to_string(&sealed).ok()?;
    let value = sbox.encrypt(&json).ok()?;
    Some(build(value, secure, TTL_S, path))
}

/// Opens this request's note, if it is this session's, unexpired, about
/// `integration` (`None`: the list page) and not opened before. The second
/// value deletes the cookie and must go on the response whenever it is
/// `Some`.
pub async fn take(
    req: &HttpRequest,
    pool: &crate::db::Pool,
    sbox: &SecretBox,
    session: &Session,
    secure: bool,
    integration: Option<&str>,
) -> AppResult<(Option<Note>, Option<Cookie<'static>>)> {
    take_note_at(req, pool, sbox, session, secure, PATH, integration).await
}

/// `take` for a `Note` sealed for the pages under `path` (a workspace's
/// `/w/‹id›`).
pub async fn take_note_at(
    req: &HttpRequest,
    pool: &crate::db::Pool,
    sbox: &SecretBox,
    session: &Session,
    secure: bool,
    path: &str,
    integration: Option<&str>,
) -> AppResult<(Option<Note>, Option<Cookie<'static>>)> {
    let (note, removal) = take_at::<Note>(req, pool, sbox, session, secure, path).await?;
    Ok((
        note.filter(|n| n.integration.as_deref() == integration),
        removal,
    ))
}

/// `take` for a note sealed with `seal_at` for `path`.
pub async fn take_at<N: DeserializeOwned>(
    req: &HttpRequest,
    pool: &crate::db::Pool,
    sbox: &SecretBox,
    session: &Session,
    secure: bool,
    path: &str,
) -> AppResult<(Option<N>, Option<Cookie<'static>>)> {
    let Some(c) = req.cookie(NAME) else {
        return Ok((None, None));
    };
    let removal = Some(build(String::new(), secure, 0, path));
    let expected = (path != PATH).then(|| path.to_string());
    let sealed = sbox
        .decrypt(c.value())
        .ok()
        .and_then(|json| serde_json::from_str::<Sealed<N>>(&json).ok())
        .filter(|s| s.session == session.id_hash && s.expires_at > now())
        .filter(|s| s.path == expected);
    let Some(sealed) = sealed else {
        return Ok((None, removal));
    };
    let (id, expires_at) = (sealed.id.clone(), sealed.expires_at);
    let first = crate::db::run(pool, move |c| {
        crate::domain::accounts::open_note_once(c, &id, expires_at)
    })
    .await?;
    Ok((first.then_some(sealed.note), removal))
}

/// A 303 to `location` carrying `note`, sealed for the pages under `path`;
/// without the cookie (it could not be sealed) the redirect still happens
/// and the page simply shows no note.
pub fn see_other_noting(
    sbox: &SecretBox,
    session: &Session,
    secure: bool,
    location: String,
    note: Note,
    path: &str,
) -> actix_web::HttpResponse {
    let mut resp = actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish();
    if let Some(c) = seal_at(sbox, session, secure, path, &note) {
        // A cookie built here always encodes into a header value.
        let _ = resp.add_cookie(&c);
    }
    resp
}
