//! What the verbs share: reading a flag's value and printing the outcome,
//! as one JSON object (`--json`) or lines for a person.

use serde_json::Value;

use crate::db::models::PageId;
use crate::error::{AppError, AppResult};

/// Prints one JSON object, or the human lines.
pub(super) fn emit(json: bool, value: Value, human: &[String]) {
    if json {
        println!("{value}");
    } else {
        for l in human {
            println!("{l}");
        }
    }
}

/// A page id from a flag.
pub(super) fn page_id(s: &str) -> AppResult<PageId> {
    PageId::parse(s).ok_or_else(|| AppError::invalid(format!("{s:?} is not a page id")))
}
