//! `/staff/cases` (investigators): cases (事项) — the task, the assigning department, whether
//! it is on the admission list, the outcome — and their publication on the public board
//! with a text written for the public (P6: never the reporters' words, never a report id).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::cases::{self, Case, LISTED, OUTCOMES};
use crate::store::staff::Role;
use crate::store::{audit, StoreError};

#[derive(Deserialize, Default)]
pub struct CaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    listed: String,
    #[serde(default)]
    screening_code: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    month: String,
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    public_text: String,
    #[serde(default)]
    withdraw: Option<String>,
}

fn tables(ctx: &mut tera::Context) {
    let pairs = |t: &[(&str, &str)]| -> Vec<(String, String)> {
        t.iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect()
    };
    ctx.insert("listed_options", &pairs(LISTED));
    ctx.insert("outcomes", &pairs(OUTCOMES));
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Investigator)?;
    let all = with_db(&state, move |conn| -> Result<_, StaffError> {
        Ok(cases::list(conn)?)
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("cases", &all);
    tables(&mut ctx);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/cases.html",
        &ctx,
    ))
}

pub async fn show(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Investigator)?;
    let id = path.into_inner();
    let case = with_db(&state, move |conn| -> Result<_, StaffError> {
        Ok(cases::get(conn, id)?)
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("case", &case);
    tables(&mut ctx);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/case.html",
        &ctx,
    ))
}

fn parse(form: &CaseForm, id: i64) -> Result<Case, StaffError> {
    let title = form.title.trim();
    let valid = !title.is_empty()
        && title.chars().count() <= 100
        && LISTED.iter().any(|(c, _)| *c == form.listed)
        && OUTCOMES.iter().any(|(c, _)| *c == form.outcome);
    if !valid {
        return Err(StaffError::Invalid(
            "事项名称（最多 100 字）、清单情况和结果都要填写。".into(),
        ));
    }
    Ok(Case {
        id,
        title: title.to_string(),
        department: form.department.trim().chars().take(60).collect(),
        listed: form.listed.clone(),
        screening_code: form.screening_code.trim().chars().take(40).collect(),
        outcome: form.outcome.clone(),
        month: form.month.trim().chars().take(7).collect(),
        ..Case::default()
    })
}

/// `POST /staff/cases` creates, `POST /staff/cases/{id}` updates.
pub async fn save(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: Option<web::Path<i64>>,
    form: web::Form<CaseForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Investigator)?;
    current.check_csrf(&form.csrf)?;
    let case = parse(&form, path.map(|p| p.into_inner()).unwrap_or(0))?;
    let actor = current.actor();
    let id = with_db(&state, move |conn| -> Result<i64, StaffError> {
        let id = cases::save(conn, &case)?;
        let action = if case.id == 0 {
            "case.create"
        } else {
            "case.update"
        };
        audit::record(
            conn,
            &actor,
            action,
            &format!("case:{id} outcome:{}", case.outcome),
        )?;
        Ok(id)
    })
    .await?;
    Ok(see_other(&format!("/staff/cases/{id}")))
}

pub async fn publish(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<PublishForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Investigator)?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let text = form.public_text.trim().to_string();
    let withdraw = form.withdraw.is_some();
    if !withdraw && (text.is_empty() || text.chars().count() > 500) {
        return Err(StaffError::Invalid(
            "请为公众写一段公示文字（最多 500 字）。".into(),
        ));
    }
    let actor = current.actor();
    with_db(&state, move |conn| -> Result<(), StaffError> {
        let case = cases::get(conn, id)?;
        if !withdraw && !matches!(case.outcome.as_str(), "stopped" | "adjusted") {
            return Err(StaffError::Invalid(
                "只有结果为“叫停”或“调整”的事项才能公示。".into(),
            ));
        }
        cases::publish(conn, id, (!withdraw).then_some(text.as_str())).map_err(|e| match e {
            StoreError::NotFound => StaffError::NotFound,
            e => e.into(),
        })?;
        let action = if withdraw {
            "case.withdraw"
        } else {
            "case.publish"
        };
        audit::record(conn, &actor, action, &format!("case:{id}"))?;
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/staff/cases/{id}")))
}
