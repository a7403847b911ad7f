//! `/staff/`: investigators go to their queue; admins see the card batches. P5: admins get
//! no report content anywhere.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tera::Context;

use super::{CurrentStaff, StaffError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::cards;
use crate::store::staff::Role;

pub async fn redirect() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/staff/"))
        .finish()
}

pub async fn get(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    if current.0.role == Role::Investigator {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/staff/reports"))
            .finish());
    }
    let db = state.db.clone();
    let batches =
        web::block(move || -> Result<_, StaffError> { Ok(cards::list_batches(&db.connect()?)?) })
            .await??;
    let mut ctx = Context::new();
    ctx.insert("me", &current.0.username);
    ctx.insert("role", &current.0.role);
    ctx.insert("csrf", &current.0.csrf);
    ctx.insert("batches", &batches);
    ctx.insert("entry_url", &state.settings.public_url);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/home.html",
        &ctx,
    ))
}
