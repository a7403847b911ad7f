//! `/thanks` and `/outcomes`. P6: the thanks page is the same for every report — no receipt,
//! no number, no status link.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tera::Context;

use crate::routes::render;
use crate::state::AppState;

pub async fn thanks(state: web::Data<AppState>) -> HttpResponse {
    render::page(
        &state.templates,
        StatusCode::OK,
        "thanks.html",
        &Context::new(),
    )
}

/// The public board of stopped tasks (已叫停事项公示). Cases are published by the desk;
/// until it publishes, the board says so.
pub async fn outcomes(state: web::Data<AppState>) -> HttpResponse {
    let mut ctx = Context::new();
    ctx.insert("outcomes", &Vec::<String>::new());
    render::page(&state.templates, StatusCode::OK, "outcomes.html", &ctx)
}

/// A bookmark or a refresh of the form's target lands back on the form.
pub async fn report_get() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/"))
        .finish()
}
