//! `/staff/stats` (investigators): the statistics, charts drawn as SVG on the server
//! (readable with JavaScript off, printable), and the CSV behind each chart.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::{with_db, CurrentStaff, StaffError};
use crate::desk;
use crate::routes::render;
use crate::state::AppState;
use crate::stats;
use crate::store::{cases, reports};

async fn compute(
    state: &AppState,
    current: &CurrentStaff,
) -> Result<(stats::Summary, Vec<stats::Table>), StaffError> {
    let key = current.desk()?;
    with_db(state, move |conn| {
        let opened = reports::all(conn)?
            .iter()
            .map(|s| Ok(desk::open_report(&key, s)?))
            .collect::<Result<Vec<_>, StaffError>>()?;
        Ok(stats::compute(&opened, &cases::list(conn)?))
    })
    .await
}

pub async fn page(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    let (summary, tables) = compute(&state, &current).await?;
    let mut ctx = current.context();
    ctx.insert("summary", &summary);
    ctx.insert("tables", &tables);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/stats.html",
        &ctx,
    ))
}

pub async fn csv(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<String>,
) -> Result<HttpResponse, StaffError> {
    let (_, tables) = compute(&state, &current).await?;
    let slug = path.into_inner();
    let table = tables
        .iter()
        .find(|t| t.slug == slug)
        .ok_or(StaffError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"jianfu-stats-{slug}.csv\""),
        ))
        .body(stats::to_csv(table)))
}
