//! `/staff/audit` (admins): the append-only audit log (P8), newest first, and its CSV export.
//! It names actors, actions and object ids; never report content.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::{with_db, CurrentStaff, StaffError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::audit;
use crate::store::staff::Role;

const SHOWN: u32 = 500;

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let entries = with_db(&state, move |conn| -> Result<_, StaffError> {
        Ok(audit::recent(conn, SHOWN)?)
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("entries", &entries);
    ctx.insert("shown", &SHOWN);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/audit.html",
        &ctx,
    ))
}

pub async fn export(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let actor = current.actor();
    let entries = with_db(&state, move |conn| -> Result<_, StaffError> {
        audit::record(conn, &actor, "audit.export", "")?;
        Ok(audit::recent(conn, u32::MAX)?)
    })
    .await?;
    // P10: the one safe writer, like every CSV.
    let header = ["at", "actor", "action", "object"];
    let rows = entries.iter().map(|e| {
        [
            e.at.as_str(),
            e.actor.as_str(),
            e.action.as_str(),
            e.object.as_str(),
        ]
    });
    let csv = crate::csv::to_string(std::iter::once(header).chain(rows))
        .map_err(|e| StaffError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"jianfu-audit.csv\"",
        ))
        .body(csv))
}
