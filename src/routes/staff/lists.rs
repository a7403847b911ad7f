//! `/staff/lists` (admins): the reference lists. Import replaces a list whole from CSV text
//! (pasted, or edited in place); every bad row is reported by line and nothing changes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::reference::{self, BadRow, ListKind};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::Role;
use crate::store::{audit, reference as store_reference};

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    csv: String,
}

fn kind_of(slug: &str) -> Result<ListKind, StaffError> {
    ListKind::parse(slug).ok_or(StaffError::NotFound)
}

pub async fn index(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let lists = with_db(&state, move |conn| -> Result<_, StaffError> {
        ListKind::ALL
            .into_iter()
            .map(|k| {
                Ok(serde_json::json!({
                    "slug": k.slug(),
                    "label": k.label(),
                    "count": store_reference::rows(conn, k)?.len(),
                }))
            })
            .collect::<Result<Vec<_>, StaffError>>()
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("lists", &lists);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/lists.html",
        &ctx,
    ))
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    kind: ListKind,
    status: StatusCode,
    text: Option<String>,
    bad: &[BadRow],
    saved: bool,
) -> Result<HttpResponse, StaffError> {
    let rows = with_db(state, move |conn| -> Result<_, StaffError> {
        Ok(store_reference::rows(conn, kind)?)
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("slug", kind.slug());
    ctx.insert("label", kind.label());
    ctx.insert("columns", kind.columns());
    let text = match text {
        Some(t) => t,
        // The text to edit in place: the file's cells, without the file's byte-order mark.
        None => reference::to_csv(kind, &rows)
            .map_err(|e| StaffError::Internal(e.to_string()))?
            .trim_start_matches(crate::csv::BOM)
            .to_string(),
    };
    ctx.insert("csv", &text);
    ctx.insert("rows", &rows);
    ctx.insert("bad", bad);
    ctx.insert("saved", &saved);
    Ok(render::page(
        &state.templates,
        status,
        "staff/list.html",
        &ctx,
    ))
}

pub async fn show(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<String>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let kind = kind_of(&path)?;
    let saved = query.contains_key("saved");
    page(&state, &current, kind, StatusCode::OK, None, &[], saved).await
}

pub async fn export(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<String>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let kind = kind_of(&path)?;
    let rows = with_db(&state, move |conn| -> Result<_, StaffError> {
        Ok(store_reference::rows(conn, kind)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"jianfu-{}.csv\"", kind.slug()),
        ))
        .body(reference::to_csv(kind, &rows).map_err(|e| StaffError::Internal(e.to_string()))?))
}

pub async fn import(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<String>,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let kind = kind_of(&path)?;
    let form = form.into_inner();
    let rows = match reference::parse_csv(kind, &form.csv) {
        Ok(rows) => rows,
        Err(bad) => {
            return page(
                &state,
                &current,
                kind,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form.csv),
                &bad,
                false,
            )
            .await
        }
    };
    let actor = current.actor();
    let count = rows.len();
    with_db(&state, move |conn| -> Result<(), StaffError> {
        let tx = conn.transaction().map_err(crate::store::StoreError::from)?;
        store_reference::replace(&tx, kind, &rows)?;
        audit::record(
            &tx,
            &actor,
            "list.import",
            &format!("{} rows:{count}", kind.slug()),
        )?;
        tx.commit().map_err(crate::store::StoreError::from)?;
        Ok(())
    })
    .await?;
    state.reload_choices()?;
    Ok(see_other(&format!("/staff/lists/{}?saved", kind.slug())))
}
