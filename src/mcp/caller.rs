//! Who a request to `/mcp` acts for, as the bearer check (`auth`) found it
//! and the tools read it.

use actix_web::web;

use crate::api::bearer::Bot;
use crate::state::AppState;

/// The grant a request to `/mcp` acts under, handed to the tools.
#[derive(Clone)]
pub struct Caller {
    pub bot: Bot,
    pub state: web::Data<AppState>,
}
