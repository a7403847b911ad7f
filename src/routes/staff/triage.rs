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

/// A triage form parsed: each field the investigator changed, as what it sets.
pub struct Triage {
    pub status: Option<ReportStatus>,
    /// `Some(None)`: no one.
    pub assignee: Option<Option<i64>>,
    /// A new case with this title (trimmed, at most 100 characters), which the report joins.
    pub new_case: Option<String>,
    /// `Some(None)`: no case. Never set together with `new_case`.
    pub case_id: Option<Option<i64>>,
    /// A note (trimmed, never empty).
    pub note: Option<Zeroizing<String>>,
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

impl TriageForm {
    /// What the form changes. An unknown status or a malformed id is `NotFound`, as a report,
    /// case or account that does not exist.
    pub fn parse(self) -> Result<Triage, StaffError> {
        let status = changed(self.status, self.status_was)
            .map(|s| ReportStatus::parse(&s).ok_or(StaffError::NotFound))
            .transpose()?;
        let assignee = changed(self.assignee, self.assignee_was)
            .map(|a| optional_id(&a))
            .transpose()?;
        let new_case = self
            .new_case
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect::<String>());
        let case_id = match new_case {
            Some(_) => None,
            None => changed(self.case_id, self.case_id_was)
                .map(|v| optional_id(&v))
                .transpose()?,
        };
        let note = self
            .note
            .map(|n| Zeroizing::new(n.trim().to_string()))
            .filter(|n| !n.is_empty());
        Ok(Triage {
            status,
            assignee,
            new_case,
            case_id,
            note,
        })
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
    let form = form.into_inner().parse()?;
    let actor = current.actor();
    let me = current.0.staff_id;
    let done = with_db(
        &state,
        move |conn| -> Result<Vec<&'static str>, StaffError> {
            let tx = conn.transaction().map_err(StoreError::from)?;
            desk_report(&tx, desk_id, id)?;
            let object = format!("report:{id}");
            let mut done = Vec::new();
            if let Some(status) = form.status {
                reports::set_status(&tx, id, status)?;
                let change = format!("{object} {}", status.code());
                audit::record(&tx, &actor, "report.status", &change)?;
                done.push("status");
            }
            if let Some(who) = form.assignee {
                if let Some(who) = who {
                    // P11: another desk's account (or an admin's) answers as a missing one
                    // does: no desk learns which staff ids exist elsewhere.
                    let account = staff::get(&tx, who)?;
                    if account.role != Role::Investigator || account.desk_id != Some(desk_id) {
                        return Err(StaffError::NotFound);
                    }
                }
                reports::set_assignee(&tx, id, who)?;
                let change = format!("{object} staff:{}", who.unwrap_or(0));
                audit::record(&tx, &actor, "report.assign", &change)?;
                done.push("assignee");
            }
            let case_id = match (form.new_case, form.case_id) {
                (Some(title), _) => Some(Some(create_case(&tx, &actor, desk_id, &title)?)),
                (None, Some(v)) => Some(desk_case_id(&tx, desk_id, v)?),
                (None, None) => None,
            };
            if let Some(case_id) = case_id {
                reports::set_case(&tx, id, case_id)?;
                let change = format!("{object} case:{}", case_id.unwrap_or(0));
                audit::record(&tx, &actor, "report.case", &change)?;
                done.push("case");
            }
            if let Some(note) = form.note {
                let purpose = crate::crypto::Purpose::Note;
                let sealed = desk::seal_text(&tx, desk_id, purpose, note.as_bytes())?;
                reports::add_note(&tx, id, me, &sealed)?;
                audit::record(&tx, &actor, "note.add", &object)?;
                done.push("note");
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

/// A case of this desk by the id the form sent, or none.
fn desk_case_id(
    conn: &rusqlite::Connection,
    desk_id: i64,
    case_id: Option<i64>,
) -> Result<Option<i64>, StaffError> {
    let Some(case_id) = case_id else {
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
        title: title.to_string(),
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
