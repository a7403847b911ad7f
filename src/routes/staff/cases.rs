//! `/staff/cases` (investigators): cases (事项) — the task, the assigning department, whether
//! it is on the admission list, the outcome. Their publication on the public board is in
//! `publication.rs`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::crypto::SecretKey;
use crate::desk::{self, CaseText};
use crate::routes::render;
use crate::state::AppState;
use crate::store::audit;
use crate::store::cases::{self, StoredCase, LISTED, OUTCOMES};

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
    pub(super) stored: StoredCase,
    #[serde(flatten)]
    pub(super) text: CaseText,
}

/// The cases of the investigator's desk, opened (P5: an admin's console never shows them),
/// by title: their ids are random (P11), so they order nothing.
pub(super) fn desk_cases(
    conn: &rusqlite::Connection,
    key: &SecretKey,
    desk_id: i64,
) -> Result<Vec<CaseView>, StaffError> {
    desk::is_current(conn, desk_id, key)?;
    let mut all = cases::of_desks(conn, &[desk_id])?
        .into_iter()
        .map(|stored| {
            Ok(CaseView {
                text: desk::open_case(key, &stored.sealed)?,
                stored,
            })
        })
        .collect::<Result<Vec<_>, StaffError>>()?;
    all.sort_by(|a, b| (&a.text.title, a.stored.id).cmp(&(&b.text.title, b.stored.id)));
    Ok(all)
}

/// A district desk's case as the city desk sees it (P11): read-only, opened from the copy of
/// its fields sealed to the city desk.
#[derive(Serialize)]
pub(super) struct DistrictCaseView {
    desk: String,
    #[serde(flatten)]
    stored: StoredCase,
    #[serde(flatten)]
    text: CaseText,
}

/// For the city desk, every district desk's cases, by desk and title; nothing for a district
/// desk.
fn district_cases(
    conn: &rusqlite::Connection,
    key: &SecretKey,
    desk_id: i64,
) -> Result<Vec<DistrictCaseView>, StaffError> {
    let desks = crate::store::desks::list(conn)?;
    if !desks.iter().any(|d| d.id == desk_id && d.is_city()) {
        return Ok(Vec::new());
    }
    let visible = crate::store::desks::visible_from(conn, desk_id)?;
    let mut all = cases::of_desks(conn, &visible)?
        .into_iter()
        .filter(|c| c.desk_id != desk_id)
        .map(|stored| {
            let text = match &stored.sealed_city {
                Some(sealed) => desk::open_case(key, sealed)?,
                // Written before the city desk had a key: only the plain fields show.
                None => CaseText::default(),
            };
            let desk = desks
                .iter()
                .find(|d| d.id == stored.desk_id)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            Ok(DistrictCaseView { desk, stored, text })
        })
        .collect::<Result<Vec<_>, StaffError>>()?;
    all.sort_by(|a, b| {
        (&a.desk, &a.text.title, a.stored.id).cmp(&(&b.desk, &b.text.title, b.stored.id))
    });
    Ok(all)
}

/// One case of the investigator's desk, opened.
pub(super) fn desk_case(
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
    let (all, districts) = with_db(&state, move |conn| {
        Ok((
            desk_cases(conn, &key, desk_id)?,
            district_cases(conn, &key, desk_id)?,
        ))
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("cases", &all);
    ctx.insert("district_cases", &districts);
    tables(&mut ctx);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/cases.html",
        &ctx,
    ))
}

/// A publication the desk refused, with what was typed (issue 13: nothing typed is lost).
pub(super) struct Refusal {
    pub text: String,
    pub message: &'static str,
}

/// The case page; on a refused publication, with the typed text and the reason, and the
/// outcome to choose beside the text when the outcome is what stood in the way.
pub(super) async fn case_page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    id: i64,
    refusal: Option<Refusal>,
    query: &HashMap<String, String>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    let case = with_db(state, move |conn| desk_case(conn, &key, desk_id, id)).await?;
    let mut ctx = current.context();
    ctx.insert("draft", &refusal.is_some());
    let (public_text, error) = match refusal {
        Some(r) => (r.text, Some(r.message)),
        None => (case.stored.public_text.clone(), None),
    };
    ctx.insert("public_text", &public_text);
    ctx.insert("error", &error);
    ctx.insert("publishable", &cases::publishable(&case.stored.outcome));
    ctx.insert("case", &case);
    tables(&mut ctx);
    super::saved::insert(&mut ctx, query);
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
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    let id = path.into_inner();
    case_page(&state, &current, StatusCode::OK, id, None, &query).await
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
    Ok(see_other(&format!("/staff/cases/{id}?saved=case_info")))
}
