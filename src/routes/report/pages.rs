//! `/thanks` and `/outcomes`. P6: the thanks page is the same for every report — no receipt,
//! no number, no status link.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use tera::Context;

use crate::routes::render;
use crate::state::AppState;
use crate::store::cases;

pub async fn thanks(state: web::Data<AppState>) -> HttpResponse {
    render::page(
        &state.templates,
        StatusCode::OK,
        "thanks.html",
        &Context::new(),
    )
}

/// The public board of stopped tasks (已叫停事项公示): cases the desk published, with the
/// text it wrote for the public — never a report's words, never a report id (P6).
pub async fn outcomes(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let published = web::block(move || cases::published(&db.connect()?)).await;
    let Ok(Ok(published)) = published else {
        return render::message(
            &state.templates,
            StatusCode::SERVICE_UNAVAILABLE,
            "暂时无法显示",
            "公示页暂时无法显示，请稍后再试。",
        );
    };
    let outcomes: Vec<_> = published
        .iter()
        .map(|c| {
            serde_json::json!({
                "outcome_label": cases::label(cases::OUTCOMES, &c.outcome),
                "department": c.public_department,
                "month": c.public_month,
                "public_text": c.public_text,
                "published_on": c.published_on,
            })
        })
        .collect();
    let mut ctx = Context::new();
    ctx.insert("outcomes", &outcomes);
    render::page(&state.templates, StatusCode::OK, "outcomes.html", &ctx)
}

/// A bookmark or a refresh of the form's target lands back on the form.
pub async fn report_get() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/"))
        .finish()
}
