//! `/staff/districts` (investigators of the city desk): the district desks and whether each
//! receives reports; approving one as it is, after checking its key fingerprint with the
//! district's head in person (P5, P11: src/desk/approval.rs). Only an investigator holding the
//! city desk key approves: an account an admin enrolled for themselves holds no grant.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::desks::views;
use super::{desk_changed, with_db, CurrentStaff, StaffError};
use crate::desk::{self, approval, DeskError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::desks::CITY_ID;

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
    /// The first group of the district desk key's fingerprint, as its head reads it out.
    #[serde(default)]
    fingerprint: String,
    /// The desk as the page showed it (`approval::current`): a desk changed since is not
    /// approved.
    #[serde(default)]
    seen: String,
}

/// What came of an approval.
enum Outcome {
    Approved,
    WrongGroup,
    Changed,
}

/// The city desk's investigators only; district investigators get what a missing page gets.
fn city_desk(current: &CurrentStaff) -> Result<(), StaffError> {
    if current.desk_id()? == CITY_ID {
        Ok(())
    } else {
        Err(StaffError::NotFound)
    }
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, StaffError> {
    let districts: Vec<_> = with_db(state, |conn| views(conn))
        .await?
        .into_iter()
        .filter(|d| !d.city)
        .collect();
    let mut ctx = current.context();
    ctx.insert("districts", &districts);
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    Ok(render::page(
        &state.templates,
        status,
        "staff/districts.html",
        &ctx,
    ))
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    city_desk(&current)?;
    page(&state, &current, StatusCode::OK, None, None).await
}

pub async fn approve(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<ApproveForm>,
) -> Result<HttpResponse, StaffError> {
    city_desk(&current)?;
    let key = current.desk()?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = current.actor();
    let form = form.into_inner();
    let outcome = with_db(&state, move |conn| -> Result<_, StaffError> {
        // The session's city key must be the current one: a rotated-away key approves nothing.
        desk::is_current(conn, CITY_ID, &key)?;
        match approval::approve_checked(conn, &actor, id, &form.seen, &form.fingerprint) {
            Ok(()) => Ok(Outcome::Approved),
            Err(DeskError::FingerprintMismatch) => Ok(Outcome::WrongGroup),
            Err(DeskError::Changed) => Ok(Outcome::Changed),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let (status, message, error) = match outcome {
        Outcome::Approved => {
            tracing::info!(staff_id = current.0.staff_id, desk = id, "district desk approved");
            desk_changed(&state);
            (
                StatusCode::OK,
                Some("已核准：这个区（县）调查组现在出现在反映表里，接收反映。"),
                None,
            )
        }
        Outcome::WrongGroup => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some("指纹第一组不一致：没有核准。请再与该组负责人核对；不一致说明这个调查组的密钥不是对方生成的。"),
        ),
        Outcome::Changed => (
            StatusCode::CONFLICT,
            None,
            Some("这个调查组在您打开本页之后被改动过（名称、乡镇或密钥）：没有核准。请看下面现在的样子，重新核对后再核准。"),
        ),
    };
    page(&state, &current, status, message, error).await
}
