//! `GET /`: the entry page and the empty form — the one URL on the poster.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::form::{self, Feedback};
use crate::domain::RawReport;
use crate::state::AppState;

pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    form::render(
        &state,
        &req,
        StatusCode::OK,
        &RawReport::default(),
        Feedback::default(),
    )
}
