//! `POST /staff/reports/{id}`: triage of one report — status, assignee, case (an existing
//! one or a new one) and a note — saved together from the report page's one form, so that
//! nothing chosen on the page is lost whichever button is pressed (issue 13). Each field that
//! changed is applied and audited on its own (P8: ids and codes, never text).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::home::see_other;
use super::reports::desk_report;
use super::{desk_changed, saved, with_db, CurrentStaff, StaffError};
use crate::desk::{self, CaseText};
use crate::domain::ReportStatus;
use crate::state::AppState;
use crate::store::staff::{self, Role};
use crate::store::{audit, cases, reports, StoreError};

/// The triage form. `*_was` carry what the page showed: a field is applied only when it
/// differs from them, so saving the whole form does not undo what a colleague changed
/// meanwhile in a field this investigator left alone. A field left out changes nothing.
#[derive(Deserialize)]
pub struct TriageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    status_was: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    assignee_was: Option<String>,
    #[serde(default)]
    case_id: Option<String>,
    #[serde(default)]
    case_id_was: Option<String>,
    #[serde(default)]
    new_case: Option<String>,
    #[serde(default)]
    note: Option<Zeroizing<String>>,
}

/// The value of a field the investigator changed, if they did.
fn changed(value: Option<String>, was: Option<String>) -> Option<String> {
    value.filter(|v| was.as_deref() != Some(v.as_str()))
}

/// An optional id field: empty means "none".
fn optional_id(value: &str) -> Result<Option<i64>, StaffError> {
    match value {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| StaffError::NotFound),
    }
}

pub async fn triage(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<TriageForm>,
) -> Result<HttpResponse, StaffError> {
    current.desk()?;
    let desk_id = current.desk_id()?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let form = form.into_inner();
    let actor = current.actor();
    let me = current.0.staff_id;
    let done = with_db(
        &state,
        move |conn| -> Result<Vec<&'static str>, StaffError> {
            let tx = conn.transaction().map_err(StoreError::from)?;
            desk_report(&tx, desk_id, id)?;
            let object = format!("report:{id}");
            let mut done = Vec::new();
            if let Some(status) = changed(form.status, form.status_was) {
                let status = ReportStatus::parse(&status).ok_or(StaffError::NotFound)?;
                reports::set_status(&tx, id, status)?;
                let change = format!("{object} {}", status.code());
                audit::record(&tx, &actor, "report.status", &change)?;
                done.push("status");
            }
            if let Some(assignee) = changed(form.assignee, form.assignee_was) {
                let who = optional_id(&assignee)?;
                if let Some(who) = who {
                    let account = staff::get(&tx, who)?;
                    if account.role != Role::Investigator || account.desk_id != Some(desk_id) {
                        return Err(StaffError::Forbidden);
                    }
                }
                reports::set_assignee(&tx, id, who)?;
                let change = format!("{object} staff:{}", who.unwrap_or(0));
                audit::record(&tx, &actor, "report.assign", &change)?;
                done.push("assignee");
            }
            let new_case = form.new_case.as_deref().map(str::trim);
            let case_id = match new_case.filter(|t| !t.is_empty()) {
                Some(title) => Some(Some(create_case(&tx, &actor, desk_id, title)?)),
                None => match changed(form.case_id, form.case_id_was) {
                    Some(v) => Some(desk_case_id(&tx, desk_id, &v)?),
                    None => None,
                },
            };
            if let Some(case_id) = case_id {
                reports::set_case(&tx, id, case_id)?;
                let change = format!("{object} case:{}", case_id.unwrap_or(0));
                audit::record(&tx, &actor, "report.case", &change)?;
                done.push("case");
            }
            if let Some(note) = form.note.as_deref().map(|n| n.trim()) {
                if !note.is_empty() {
                    let purpose = crate::crypto::Purpose::Note;
                    let sealed = desk::seal_text(&tx, desk_id, purpose, note.as_bytes())?;
                    reports::add_note(&tx, id, me, &sealed)?;
                    audit::record(&tx, &actor, "note.add", &object)?;
                    done.push("note");
                }
            }
            tx.commit().map_err(StoreError::from)?;
            Ok(done)
        },
    )
    .await?;
    if !done.is_empty() {
        desk_changed(&state);
    }
    Ok(see_other(&format!(
        "/staff/reports/{id}?saved={}",
        saved::fields(&done)
    )))
}

/// A case of this desk by the id the form sent, or none for "".
fn desk_case_id(
    conn: &rusqlite::Connection,
    desk_id: i64,
    value: &str,
) -> Result<Option<i64>, StaffError> {
    let Some(case_id) = optional_id(value)? else {
        return Ok(None);
    };
    let case = cases::get(conn, case_id)?;
    if case.desk_id != desk_id {
        return Err(StaffError::NotFound);
    }
    Ok(Some(case.id))
}

/// A new case named while reading a report. P5: its title is sealed like the report.
fn create_case(
    conn: &rusqlite::Connection,
    actor: &str,
    desk_id: i64,
    title: &str,
) -> Result<i64, StaffError> {
    let text = CaseText {
        title: title.chars().take(100).collect(),
        department: String::new(),
        listed: "unknown".into(),
        screening_code: String::new(),
        month: String::new(),
    };
    let sealed = desk::seal_case(conn, desk_id, &text)?;
    let case_id = cases::create(conn, desk_id, &sealed, "open")?;
    audit::record(conn, actor, "case.create", &format!("case:{case_id}"))?;
    Ok(case_id)
}
