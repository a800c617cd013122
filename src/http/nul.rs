//! Refuses requests carrying a NUL character (raw, `%00` in a query or form,
//! `\u0000` in JSON) before any handler sees them, in the format the path
//! calls for. No field of the product may hold one, PostgreSQL cannot store
//! one in text at all, and refusing it in one place keeps every present and
//! future parser from turning it into a 500 (found by the fuzzer).
//!
//! It is also where a body is read within a deadline
//! (`server.body_timeout_s`): every body a handler accepts is small enough
//! to be read here first, so a client that sends headers and then trickles
//! or withholds the body gets a 408 instead of holding a worker's
//! connection open indefinitely. (Headers have actix's own deadline,
//! `client_request_timeout`.)

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, Error, FromRequest};

use crate::http::errors::Shape;
use crate::state::AppState;

/// Bodies larger than this are left to the handlers' own limits (this is
/// actix's default payload limit, which the body extractor enforces).
const MAX_INSPECTED: usize = 256 * 1024;

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A NUL raw, percent-encoded, or as a JSON escape.
pub fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || contains_ci(bytes, b"%00") || contains_ci(bytes, b"\\u0000")
}

fn refusal(path: &str) -> actix_web::HttpResponse<BoxBody> {
    Shape::of(path)
        .bad_request(
            "The request contains a NUL character, which no field accepts.".into(),
            "The request contains a NUL character.".into(),
        )
        .error_response()
}

/// 408, and the connection closed: the rest of the body is not awaited.
/// Page paths get a plain 408; JSON paths are reshaped by
/// `errors::json_errors`.
fn too_slow() -> actix_web::HttpResponse<BoxBody> {
    let mut resp = actix_web::HttpResponse::RequestTimeout()
        .content_type("text/plain; charset=utf-8")
        .body("The request body took too long to arrive.");
    resp.head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    resp
}

pub async fn reject_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if has_nul(req.query_string().as_bytes()) || has_nul(req.path().as_bytes()) {
        let path = req.path().to_string();
        return Ok(req.into_response(refusal(&path)));
    }
    if matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT) {
        let small = match req.headers().get(actix_web::http::header::CONTENT_LENGTH) {
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|n| n <= MAX_INSPECTED),
            None => true,
        };
        if small {
            let deadline = req
                .app_data::<web::Data<AppState>>()
                .map_or(30, |s| s.config.server.body_timeout_s);
            let (http, payload) = req.parts_mut();
            let read = Bytes::from_request(http, payload);
            let Ok(body) = actix_web::rt::time::timeout(
                std::time::Duration::from_secs(deadline.max(1) as u64),
                read,
            )
            .await
            else {
                return Ok(req.into_response(too_slow()));
            };
            let body = body?;
            if has_nul(&body) {
                let path = req.path().to_string();
                return Ok(req.into_response(refusal(&path)));
            }
            req.set_payload(actix_web::dev::Payload::from(body));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
