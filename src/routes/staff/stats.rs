//! `/staff/stats` (investigators): the statistics, charts drawn as SVG on the server
//! (readable with JavaScript off, printable), and the CSV behind each chart.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::{session_reports, with_db, CurrentStaff, StaffError};
use crate::routes::render;
use crate::state::AppState;
use crate::stats;
use crate::store::cases;

async fn compute(
    state: &AppState,
    current: &CurrentStaff,
) -> Result<(stats::Summary, Vec<stats::Table>), StaffError> {
    let snapshot = session_reports(state, current).await?;
    let desk_id = current.desk_id()?;
    let (all_cases, desks) = with_db(state, move |conn| {
        Ok((
            cases::of_desks(conn, &[desk_id])?,
            crate::store::desks::list(conn)?,
        ))
    })
    .await?;
    // P11: the city desk's figures also break down by district.
    let city = desks.iter().any(|d| d.id == desk_id && d.is_city());
    let names: Vec<(String, String)> = desks.into_iter().map(|d| (d.code, d.name)).collect();
    let districts = (city && names.len() > 1).then_some(names.as_slice());
    Ok(stats::compute(&snapshot, &all_cases, districts))
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
        .body(stats::to_csv(table).map_err(|e| StaffError::Internal(e.to_string()))?))
}
