//! `/staff/cases` (investigators): cases (事项) — the task, the assigning department, whether
//! it is on the admission list, the outcome — and their publication on the public board
//! with a text written for the public (P6: never the reporters' words, never a report id).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::crypto::SecretKey;
use crate::desk::{self, CaseText};
use crate::routes::render;
use crate::state::AppState;
use crate::store::cases::{self, StoredCase, LISTED, OUTCOMES};
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

/// A case as the desk's pages show it: its sealed fields opened with the session's key.
#[derive(Serialize)]
pub(super) struct CaseView {
    #[serde(flatten)]
    stored: StoredCase,
    #[serde(flatten)]
    text: CaseText,
}

/// The cases of the investigator's desk, opened (P5: an admin's console never shows them).
pub(super) fn desk_cases(
    conn: &rusqlite::Connection,
    key: &SecretKey,
    desk_id: i64,
) -> Result<Vec<CaseView>, StaffError> {
    desk::is_current(conn, desk_id, key)?;
    cases::of_desks(conn, &[desk_id])?
        .into_iter()
        .map(|stored| {
            Ok(CaseView {
                text: desk::open_case(key, &stored.sealed)?,
                stored,
            })
        })
        .collect()
}

/// One case of the investigator's desk, opened.
fn desk_case(
    conn: &rusqlite::Connection,
    key: &SecretKey,
    desk_id: i64,
    id: i64,
) -> Result<CaseView, StaffError> {
    let stored = cases::get(conn, id)?;
    if stored.desk_id != desk_id {
        return Err(StaffError::NotFound);
    }
    Ok(CaseView {
        text: desk::open_case(key, &stored.sealed)?,
        stored,
    })
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    let all = with_db(&state, move |conn| desk_cases(conn, &key, desk_id)).await?;
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

async fn case_page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    id: i64,
    public_text: Option<String>,
    error: Option<&str>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    let case = with_db(state, move |conn| desk_case(conn, &key, desk_id, id)).await?;
    let mut ctx = current.context();
    // A refused publication keeps what was typed.
    ctx.insert(
        "public_text",
        &public_text.unwrap_or_else(|| case.stored.public_text.clone()),
    );
    ctx.insert(
        "publishable",
        &matches!(case.stored.outcome.as_str(), "stopped" | "adjusted"),
    );
    ctx.insert("case", &case);
    ctx.insert("error", &error);
    tables(&mut ctx);
    Ok(render::page(
        &state.templates,
        status,
        "staff/case.html",
        &ctx,
    ))
}

pub async fn show(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
) -> Result<HttpResponse, StaffError> {
    case_page(
        &state,
        &current,
        StatusCode::OK,
        path.into_inner(),
        None,
        None,
    )
    .await
}

impl CaseForm {
    /// The case's fields as they are sealed, or why the form cannot be saved.
    pub fn parse(&self) -> Result<CaseText, StaffError> {
        let title = self.title.trim();
        let valid = !title.is_empty()
            && title.chars().count() <= 100
            && LISTED.iter().any(|(c, _)| *c == self.listed)
            && OUTCOMES.iter().any(|(c, _)| *c == self.outcome);
        if !valid {
            return Err(StaffError::Invalid(
                "事项名称（最多 100 字）、清单情况和结果都要填写。".into(),
            ));
        }
        Ok(CaseText {
            title: title.to_string(),
            department: self.department.trim().chars().take(60).collect(),
            listed: self.listed.clone(),
            screening_code: self.screening_code.trim().chars().take(40).collect(),
            month: self.month.trim().chars().take(7).collect(),
        })
    }
}

/// `POST /staff/cases` creates, `POST /staff/cases/{id}` updates. P5: the fields are sealed to
/// the desk key before they are stored.
pub async fn save(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: Option<web::Path<i64>>,
    form: web::Form<CaseForm>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    current.check_csrf(&form.csrf)?;
    let text = form.parse()?;
    let outcome = form.outcome.clone();
    let existing = path.map(|p| p.into_inner());
    let actor = current.actor();
    let id = with_db(&state, move |conn| -> Result<i64, StaffError> {
        let sealed = desk::seal_case(conn, desk_id, &text)?;
        let (id, action) = match existing {
            None => (
                cases::create(conn, desk_id, &sealed, &outcome)?,
                "case.create",
            ),
            Some(id) => {
                desk_case(conn, &key, desk_id, id)?;
                cases::update(conn, id, &sealed, &outcome)?;
                (id, "case.update")
            }
        };
        audit::record(
            conn,
            &actor,
            action,
            &format!("case:{id} outcome:{outcome}"),
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
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let text = form.public_text.trim().to_string();
    let withdraw = form.withdraw.is_some();
    if !withdraw && (text.is_empty() || text.chars().count() > 500) {
        return case_page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            id,
            Some(text),
            Some("请为公众写一段公示文字（最多 500 字）。"),
        )
        .await;
    }
    let actor = current.actor();
    let public = text.clone();
    let published = with_db(&state, move |conn| -> Result<bool, StaffError> {
        let case = desk_case(conn, &key, desk_id, id)?;
        if !withdraw && !matches!(case.stored.outcome.as_str(), "stopped" | "adjusted") {
            return Ok(false);
        }
        // P6: the department and month become public with the text written for the public.
        let publication = (!withdraw).then_some(cases::Publication {
            department: &case.text.department,
            month: &case.text.month,
            text: &public,
        });
        cases::publish(conn, id, publication).map_err(|e| match e {
            StoreError::NotFound => StaffError::NotFound,
            e => e.into(),
        })?;
        let action = if withdraw {
            "case.withdraw"
        } else {
            "case.publish"
        };
        audit::record(conn, &actor, action, &format!("case:{id}"))?;
        Ok(true)
    })
    .await?;
    if !published {
        return case_page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            id,
            Some(text),
            Some("只有结果为“叫停”或“调整”的事项才能公示。请先把结果改为“叫停”或“调整”并保存。"),
        )
        .await;
    }
    Ok(see_other(&format!("/staff/cases/{id}")))
}
