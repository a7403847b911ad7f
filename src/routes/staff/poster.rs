//! `/staff/poster.svg` and `/staff/poster.png` (admins): the QR poster for the entry URL,
//! `?size=a4|a3`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{CurrentStaff, StaffError};
use crate::poster::{self, PaperSize};
use crate::state::AppState;
use crate::store::staff::Role;

#[derive(Deserialize)]
pub struct Query {
    #[serde(default)]
    size: PaperSize,
}

pub async fn download(
    state: web::Data<AppState>,
    current: CurrentStaff,
    format: web::Path<String>,
    query: web::Query<Query>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let url = format!("{}/", state.settings.public_url);
    let size = query.size;
    let (bytes, content_type, ext) = match format.as_str() {
        "svg" => (
            poster::svg(&url, size).map(String::into_bytes),
            "image/svg+xml",
            "svg",
        ),
        "png" => (
            web::block(move || poster::png(&url, size)).await?,
            "image/png",
            "png",
        ),
        _ => return Err(StaffError::NotFound),
    };
    let bytes = bytes.map_err(|e| StaffError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"jianfu-poster-{size:?}.{ext}\"").to_lowercase(),
        ))
        .body(bytes))
}
