//! `/thanks` and `/outcomes`. P6: the thanks page is the same for every report — no receipt,
//! no number, no status link.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tera::Context;

use crate::routes::render;
use crate::state::AppState;
use crate::store::{board, cases, desks};

pub async fn thanks(state: web::Data<AppState>) -> HttpResponse {
    render::page(
        &state.templates,
        StatusCode::OK,
        "thanks.html",
        &Context::new(),
    )
}

/// The public board of stopped tasks (已叫停事项公示): each desk's record per month — reports
/// received, tasks stopped or adjusted (P11) — and the cases the desks published, with the
/// text they wrote for the public: never a report's words, never a report id (P6). The
/// reports received are shown for completed months only (`board::record`): the page does not
/// change when the pool is released.
pub async fn outcomes(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let this_month = crate::store::today().format("%Y-%m").to_string();
    let month = this_month.clone();
    let read = web::block(move || -> Result<_, crate::store::StoreError> {
        let conn = db.connect()?;
        let desks = desks::list(&conn)?;
        let ids: Vec<i64> = desks.iter().map(|d| d.id).collect();
        Ok((
            cases::published(&conn)?,
            board::record(&conn, &month, &ids)?,
            desks,
        ))
    })
    .await;
    let Ok(Ok((published, record, desks))) = read else {
        return render::message(
            &state.templates,
            StatusCode::SERVICE_UNAVAILABLE,
            "暂时无法显示",
            "公示页暂时无法显示，请稍后再试。",
        );
    };
    let desk_name = |id: i64| {
        desks
            .iter()
            .find(|d| d.id == id)
            .map_or("", |d| d.name.as_str())
    };
    let outcomes: Vec<_> = published
        .iter()
        .map(|c| {
            serde_json::json!({
                "desk": desk_name(c.desk_id),
                "outcome_label": cases::label(cases::OUTCOMES, &c.outcome),
                "department": c.public_department,
                "month": c.public_month,
                "public_text": c.public_text,
                "published_on": c.published_on,
            })
        })
        .collect();
    // Grouped by month (newest first), each desk a line: a list reads on a phone at 200%
    // where a four-column table would not.
    let mut months: Vec<serde_json::Value> = Vec::new();
    for m in &record {
        let line = serde_json::json!({
            "desk": desk_name(m.desk_id),
            // `None` while the month is not over: not published yet.
            "received": m.received,
            "received_published": m.received.is_some(),
            "stopped": m.stopped,
        });
        match months.last_mut() {
            Some(last) if last["month"] == m.month.as_str() => {
                if let Some(desks) = last["desks"].as_array_mut() {
                    desks.push(line);
                }
            }
            _ => months.push(serde_json::json!({ "month": m.month, "desks": [line] })),
        }
    }
    let mut ctx = Context::new();
    ctx.insert("outcomes", &outcomes);
    ctx.insert("record", &months);
    ctx.insert("districts", &(desks.len() > 1));
    ctx.insert("this_month", &this_month);
    render::page(&state.templates, StatusCode::OK, "outcomes.html", &ctx)
}

/// A bookmark or a refresh of the form's target lands back on the form.
pub async fn report_get() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/"))
        .finish()
}
