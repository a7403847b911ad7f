//! `/staff/desks` (admins): the city desk and the district desks (P11), their townships and
//! key fingerprints; adding a district desk. A desk's key is made by its first investigator
//! at enrolment: an admin never holds one (P5).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{with_db, CurrentStaff, StaffError};
use crate::desk::approval;
use crate::desk::directory::{self, DirectoryError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::desks;
use crate::store::staff::Role;

/// The form that adds a district desk, kept as typed on a refusal.
#[derive(Deserialize, Serialize, Default)]
pub struct AddForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    /// One township per line.
    #[serde(default)]
    townships: String,
    #[serde(default, skip_serializing)]
    csrf: String,
}

/// The form that replaces a desk's townships.
#[derive(Deserialize)]
pub struct TownshipsForm {
    #[serde(default)]
    townships: String,
    #[serde(default)]
    csrf: String,
}

/// A desk as the console shows it.
#[derive(Serialize)]
pub(super) struct DeskView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub city: bool,
    pub fingerprint: Option<String>,
    pub townships: Vec<String>,
    /// P5, P11: whether it receives reports now (the city desk always does; a district desk
    /// once the city desk approved it as it is: src/desk/approval.rs).
    pub approved: bool,
    /// The desk as it is now, which an approval from the city desk's page covers.
    pub digest: String,
    /// The accounts that hold its key (P5: the city desk checks them with the district's head).
    pub holders: Vec<String>,
}

/// Every desk, the city's first.
pub(super) fn views(conn: &rusqlite::Connection) -> Result<Vec<DeskView>, StaffError> {
    let townships = desks::townships(conn)?;
    desks::list(conn)?
        .into_iter()
        .map(|d| {
            let own: Vec<String> = townships
                .iter()
                .filter(|(_, id)| *id == d.id)
                .map(|(name, _)| name.clone())
                .collect();
            let holders = approval::holders(conn, d.id)?;
            Ok(DeskView {
                approved: approval::is_routable(&d, &own),
                digest: approval::as_shown(&d, &own, &holders),
                holders,
                townships: own,
                city: d.is_city(),
                fingerprint: d.public_key.as_ref().map(crate::desk::fingerprint),
                id: d.id,
                code: d.code,
                name: d.name,
            })
        })
        .collect()
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    form: &AddForm,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, StaffError> {
    let views = with_db(state, |conn| views(conn)).await?;
    let mut ctx = current.context();
    ctx.insert("desks", &views);
    ctx.insert("form", form);
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    Ok(render::page(
        &state.templates,
        status,
        "staff/desks.html",
        &ctx,
    ))
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    page(
        &state,
        &current,
        StatusCode::OK,
        &AddForm::default(),
        None,
        None,
    )
    .await
}

/// The status a refusal answers with: the admin's input, or the store.
fn refusal_status(e: &DirectoryError) -> StatusCode {
    match e {
        DirectoryError::Store(crate::store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
        DirectoryError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

pub async fn add(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let actor = current.actor();
    let (code, name, text) = (form.code.clone(), form.name.clone(), form.townships.clone());
    let added = with_db(&state, move |conn| {
        Ok(directory::parse_townships(&text).and_then(|townships| {
            directory::add(
                conn,
                &actor,
                directory::AddedBy::Console,
                &code,
                &name,
                &townships,
            )
        }))
    })
    .await;
    let refused = match added {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e),
        Err(e) => return Err(e),
    };
    state.desk_keys_changed();
    match refused {
        None => {
            let message = format!(
                "已新增调查组“{}”。请在“账号”页为它新建第一位调查人员：他设置密码时生成这个调查组的密钥和恢复码。",
                form.name.trim()
            );
            page(
                &state,
                &current,
                StatusCode::OK,
                &AddForm::default(),
                Some(&message),
                None,
            )
            .await
        }
        Some(e) => {
            page(
                &state,
                &current,
                refusal_status(&e),
                &form,
                None,
                Some(&e.message()),
            )
            .await
        }
    }
}

pub async fn townships(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<TownshipsForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let desk_id = path.into_inner();
    let actor = current.actor();
    let text = form.into_inner().townships;
    let saved = with_db(&state, move |conn| {
        Ok(directory::parse_townships(&text)
            .and_then(|townships| directory::set_townships(conn, &actor, desk_id, &townships)))
    })
    .await;
    let refused = match saved {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(e) => return Err(e),
    };
    state.desk_keys_changed();
    let (status, message, error) = match &refused {
        None => (StatusCode::OK, Some("已保存乡镇（街道）。"), None),
        Some(e) => (refusal_status(e), None, Some(e.message())),
    };
    page(
        &state,
        &current,
        status,
        &AddForm::default(),
        message,
        error.as_deref(),
    )
    .await
}
