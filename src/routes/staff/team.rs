//! `/staff/team` (investigators): who holds the desk key, and granting it to a colleague by
//! sealing it to their own public key — no password changes hands (P5).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::desk;
use crate::routes::render;
use crate::state::AppState;
use crate::store::audit;
use crate::store::staff::{self, Role};

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Investigator)?;
    let team = with_db(&state, move |conn| -> Result<_, StaffError> {
        let all = staff::list(conn)?;
        Ok(all
            .into_iter()
            .filter(|a| a.role == Role::Investigator)
            .collect::<Vec<_>>())
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("team", &team);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/team.html",
        &ctx,
    ))
}

pub async fn grant(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = current.actor();
    with_db(&state, move |conn| -> Result<(), StaffError> {
        let account = staff::get(conn, id)?;
        if account.role != Role::Investigator || account.disabled {
            return Err(StaffError::Forbidden);
        }
        desk::grant_to(conn, &key, id)?;
        audit::record(conn, &actor, "desk.grant", &format!("staff:{id}"))?;
        Ok(())
    })
    .await?;
    tracing::info!(
        staff_id = current.0.staff_id,
        granted = id,
        "desk key granted"
    );
    Ok(see_other("/staff/team"))
}
