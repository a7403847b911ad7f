//! The investigators' queue and one report, decrypted in memory with the session's desk key
//! (P5). Admins get 403 (SPEC §3.3). Viewing a report is audited (P8).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{CurrentStaff, StaffError};
use crate::desk::{self, OpenedReport};
use crate::reference::Choices;
use crate::routes::render;
use crate::state::AppState;
use crate::store::{audit, reports};

/// A report with the labels a page shows.
#[derive(Serialize)]
struct View {
    #[serde(flatten)]
    report: OpenedReport,
    category_label: &'static str,
    channel_label: &'static str,
    listed_label: &'static str,
    status_label: &'static str,
    admission_label: Option<String>,
    excerpt: String,
}

impl View {
    fn new(report: OpenedReport, choices: &Choices) -> View {
        View {
            admission_label: report
                .admission_item
                .as_deref()
                .map(|code| choices.admission_label(code)),
            category_label: report.category.label(),
            channel_label: report.channel.label(),
            listed_label: report.listed.label(),
            status_label: report.status.label(),
            excerpt: report.body.chars().take(60).collect(),
            report,
        }
    }
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let db = state.db.clone();
    let choices = state.choices();
    let views = web::block(move || -> Result<Vec<View>, StaffError> {
        let stored = reports::all(&db.connect()?)?;
        stored
            .iter()
            .map(|s| Ok(View::new(desk::open_report(&key, s)?, &choices)))
            .collect()
    })
    .await??;
    let mut ctx = current.context();
    ctx.insert("reports", &views);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/reports.html",
        &ctx,
    ))
}

pub async fn show(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let id = path.into_inner();
    let db = state.db.clone();
    let actor = current.actor();
    let choices = state.choices();
    let view = web::block(move || -> Result<View, StaffError> {
        let conn = db.connect()?;
        let stored = reports::get(&conn, id)?;
        audit::record(&conn, &actor, "report.view", &format!("report:{id}"))?;
        Ok(View::new(desk::open_report(&key, &stored)?, &choices))
    })
    .await??;
    tracing::info!(
        staff_id = current.0.staff_id,
        report_id = id,
        "report viewed"
    );
    let mut ctx = current.context();
    ctx.insert("r", &view);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/report.html",
        &ctx,
    ))
}
