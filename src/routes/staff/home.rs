//! `/staff/`: each role's start page.

use actix_web::HttpResponse;

use super::{CurrentStaff, StaffError};
use crate::store::staff::Role;

pub async fn redirect() -> HttpResponse {
    see_other("/staff/")
}

pub async fn get(current: CurrentStaff) -> Result<HttpResponse, StaffError> {
    Ok(see_other(match current.0.role {
        Role::Investigator => "/staff/reports",
        Role::Admin => "/staff/batches",
    }))
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}
