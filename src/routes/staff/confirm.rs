//! A second page that asks before an irreversible action (issue 13), without JavaScript: the
//! first POST of the action's form changes nothing and answers with this page, whose own form
//! posts the same action again with `confirm=1` and the CSRF token.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

use super::CurrentStaff;
use crate::routes::render;
use crate::state::AppState;

/// What the confirmation page asks. Its texts are the desk's own words and ids, never
/// anything a reporter wrote.
#[derive(Serialize)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    /// What cannot be undone afterwards.
    pub consequence: &'static str,
    /// Where the confirmed form posts.
    pub action: String,
    /// Fields posted again with the confirmation, besides `csrf` and `confirm`.
    pub fields: Vec<(&'static str, &'static str)>,
    pub button: &'static str,
    /// Where "取消" goes: the page the action was started from.
    pub back: String,
}

/// Whether the form carries the confirmation.
pub fn confirmed(value: Option<&str>) -> bool {
    value == Some("1")
}

pub fn page(state: &AppState, current: &CurrentStaff, confirm: &Confirm) -> HttpResponse {
    let mut ctx = current.context();
    ctx.insert("c", confirm);
    render::page(&state.templates, StatusCode::OK, "staff/confirm.html", &ctx)
}
