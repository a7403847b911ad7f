//! The investigators' queue and one report, decrypted in memory with the session's desk key
//! (P5); triage: status, assignment, notes (sealed like reports) and the case a report
//! belongs to. Admins get 403 (SPEC §3.3). Every view and change is audited (P8).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::home::see_other;
use super::{desk_changed, session_reports, with_db, CurrentStaff, StaffError};
use crate::crypto::desk_box::BoxKey;
use crate::desk::{self, OpenedReport};
use crate::domain::{Category, Channel, Listed, ReportStatus};
use crate::queue::{self, Filter};
use crate::reference::Choices;
use crate::routes::choice::options;
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::{self, Role};
use crate::store::{audit, cases, reports};

/// A report with the labels a page shows.
#[derive(Serialize)]
struct View<'a> {
    #[serde(flatten)]
    report: &'a OpenedReport,
    category_label: &'static str,
    channel_label: &'static str,
    listed_label: &'static str,
    status_label: &'static str,
    admission_label: Option<String>,
    excerpt: String,
    /// The desk's own fields, which the export leaves out.
    assignee: Option<i64>,
    case_id: Option<i64>,
}

impl<'a> View<'a> {
    fn new(report: &'a OpenedReport, choices: &Choices) -> View<'a> {
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
            assignee: report.assignee,
            case_id: report.case_id,
            report,
        }
    }
}

/// `GET /staff/reports?tab=…&page=…`: the queue under the session's filters. P8: every read
/// is audited (tab and page only; the filters were audited when set).
pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    current.desk()?;
    let mut filter = current
        .0
        .filter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .at(
            query.get("tab").map(String::as_str),
            query.get("page").map(String::as_str),
        );
    // "在队列中查看" on a case: a case id is the desk's own number, nothing from a report.
    if let Some(case_id) = query.get("case").and_then(|c| c.parse().ok()) {
        filter = Filter {
            case_id: Some(case_id),
            ..Filter::default()
        }
        .at(Some("all"), None);
        record(&state, &current, "queue.filter", "case".to_string()).await?;
    }
    *current.0.filter.lock().unwrap_or_else(|e| e.into_inner()) = filter.clone();
    record(
        &state,
        &current,
        "queue.read",
        format!("tab:{} page:{}", filter.tab.code(), filter.page),
    )
    .await?;
    let snapshot = session_reports(&state, &current).await?;
    let schedule = schedule_view(&state).await?;
    let desk_id = current.desk_id()?;
    let team = with_db(&state, move |conn| Ok(staff::desk_members(conn, desk_id)?)).await?;
    let page = queue::apply(&snapshot.reports, &filter);
    let choices = state.choices();
    let rows: Vec<View> = page.rows.iter().map(|r| View::new(r, &choices)).collect();
    let tabs: Vec<_> = page
        .counts
        .iter()
        .map(|(t, n)| serde_json::json!({"code": t.code(), "label": t.label(), "count": n}))
        .collect();
    let mut ctx = current.context();
    ctx.insert("schedule", &schedule);
    ctx.insert("reports", &rows);
    ctx.insert("tabs", &tabs);
    ctx.insert("filter", &filter);
    ctx.insert(
        "filtered",
        &(!filter.field_names().is_empty() || !filter.q.is_empty()),
    );
    ctx.insert("team", &team);
    ctx.insert("tab", filter.tab.code());
    ctx.insert("page", &filter.page.min(page.pages));
    ctx.insert("pages", &page.pages);
    ctx.insert(
        "categories",
        &options(Category::ALL, Category::code, Category::label),
    );
    ctx.insert(
        "channels",
        &options(Channel::ALL, Channel::code, Channel::label),
    );
    ctx.insert(
        "listed_options",
        &options(Listed::ALL, Listed::code, Listed::label),
    );
    ctx.insert(
        "statuses",
        &options(ReportStatus::ALL, ReportStatus::code, ReportStatus::label),
    );
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/reports.html",
        &ctx,
    ))
}

/// `POST /staff/reports`: sets (or with `clear`, clears) the session's filters and search, then
/// back to the queue. P8: audited by field name; the search as `queue.search`, without its text.
pub async fn filter(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    current.desk()?;
    current.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let tab = form.get("tab").map(String::as_str);
    let filter = if form.contains_key("clear") {
        Filter::default()
    } else {
        Filter::from_form(&form)
    }
    .at(tab, None);
    let fields = filter.field_names().join(",");
    if !fields.is_empty() || form.contains_key("clear") {
        record(&state, &current, "queue.filter", fields).await?;
    }
    if !filter.q.is_empty() {
        record(&state, &current, "queue.search", String::new()).await?;
    }
    let to = format!("/staff/reports?tab={}", filter.tab.code());
    *current.0.filter.lock().unwrap_or_else(|e| e.into_inner()) = filter;
    Ok(see_other(&to))
}

/// One audit row for this investigator (P8): ids and field names only.
async fn record(
    state: &AppState,
    current: &CurrentStaff,
    action: &'static str,
    object: String,
) -> Result<(), StaffError> {
    let actor = current.actor();
    with_db(state, move |conn| {
        Ok(audit::record(conn, &actor, action, &object)?)
    })
    .await
}

/// P3: the release schedule in force, its last change, and whether the period is short enough
/// to tie reports to when they were filed.
async fn schedule_view(state: &AppState) -> Result<serde_json::Value, StaffError> {
    let last_change = with_db(state, |conn| Ok(audit::last(conn, "schedule.change")?)).await?;
    let pool = &state.settings.pool;
    Ok(serde_json::json!({
        "describe": pool.describe(),
        "every": crate::configuration::format_duration(pool.release_every),
        "too_short": pool.period_too_short(),
        "last_change": last_change,
    }))
}

/// A released report of the investigator's own desk (P11: another desk's copy is not found).
fn desk_report(
    conn: &rusqlite::Connection,
    desk_id: i64,
    id: i64,
) -> Result<reports::StoredReport, StaffError> {
    Some(reports::get(conn, id)?)
        .filter(|r| r.desk_id == desk_id)
        .ok_or(StaffError::NotFound)
}

#[derive(Serialize)]
struct NoteView {
    author: String,
    written_on: String,
    text: String,
}

pub async fn show(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    let id = path.into_inner();
    let actor = current.actor();
    let (report, notes, team, all_cases) = with_db(&state, move |conn| -> Result<_, StaffError> {
        let stored = desk_report(conn, desk_id, id)?;
        audit::record(conn, &actor, "report.view", &format!("report:{id}"))?;
        let report = desk::open_report(&key, &BoxKey::derive(&key), &stored)?;
        let notes = reports::notes(conn, id)?
            .into_iter()
            .map(|n| {
                Ok(NoteView {
                    text: desk::open_note(&key, &n.sealed)?,
                    author: n.author,
                    written_on: n.written_on,
                })
            })
            .collect::<Result<Vec<_>, StaffError>>()?;
        let team = staff::desk_members(conn, desk_id)?;
        let all_cases = super::cases::desk_cases(conn, &key, desk_id)?;
        Ok((report, notes, team, all_cases))
    })
    .await?;
    tracing::info!(
        staff_id = current.0.staff_id,
        report_id = id,
        "report viewed"
    );
    let choices = state.choices();
    let mut ctx = current.context();
    ctx.insert("r", &View::new(&report, &choices));
    ctx.insert("notes", &notes);
    ctx.insert("team", &team);
    ctx.insert("cases", &all_cases);
    ctx.insert(
        "statuses",
        &options(ReportStatus::ALL, ReportStatus::code, ReportStatus::label),
    );
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/report.html",
        &ctx,
    ))
}

#[derive(Deserialize)]
pub struct TriageForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub case_id: Option<String>,
    #[serde(default)]
    pub new_case: Option<String>,
    #[serde(default)]
    pub note: Option<Zeroizing<String>>,
}

/// A triage form parsed: each field that was posted, as what it sets.
pub struct Triage {
    pub status: Option<ReportStatus>,
    /// `Some(None)`: no one.
    pub assignee: Option<Option<i64>>,
    /// A new case with this title (at most 100 characters), which the report joins.
    pub new_case: Option<String>,
    /// `Some(None)`: no case. Not read when a new case is made.
    pub case_id: Option<Option<i64>>,
    pub note: Option<Zeroizing<String>>,
}

impl TriageForm {
    /// Parses the posted fields; an unknown status or a malformed id is `NotFound`, as a
    /// report, case or account that does not exist.
    pub fn parse(self) -> Result<Triage, StaffError> {
        let id = |v: &str| match v {
            "" => Ok(None),
            v => v.parse::<i64>().map(Some).map_err(|_| StaffError::NotFound),
        };
        let status = match self.status {
            Some(s) => Some(ReportStatus::parse(&s).ok_or(StaffError::NotFound)?),
            None => None,
        };
        let assignee = self.assignee.as_deref().map(id).transpose()?;
        let new_case = self
            .new_case
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect::<String>());
        let case_id = match (&new_case, self.case_id.as_deref()) {
            (None, Some(v)) => Some(id(v)?),
            _ => None,
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

/// `POST /staff/reports/{id}`: one triage change per form (status, assignee, case or note).
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
    with_db(&state, move |conn| -> Result<(), StaffError> {
        let tx = conn.transaction().map_err(crate::store::StoreError::from)?;
        desk_report(&tx, desk_id, id)?;
        let object = format!("report:{id}");
        if let Some(status) = form.status {
            reports::set_status(&tx, id, status)?;
            audit::record(
                &tx,
                &actor,
                "report.status",
                &format!("{object} {}", status.code()),
            )?;
        }
        if let Some(who) = form.assignee {
            if let Some(who) = who {
                let account = staff::get(&tx, who)?;
                if account.role != Role::Investigator || account.desk_id != Some(desk_id) {
                    return Err(StaffError::Forbidden);
                }
            }
            reports::set_assignee(&tx, id, who)?;
            audit::record(
                &tx,
                &actor,
                "report.assign",
                &format!("{object} staff:{}", who.unwrap_or(0)),
            )?;
        }
        if let Some(title) = form.new_case {
            // P5: a case title typed while reading a report is sealed like the report.
            let text = crate::desk::CaseText {
                title,
                department: String::new(),
                listed: "unknown".into(),
                screening_code: String::new(),
                month: String::new(),
            };
            let sealed = desk::seal_case(&tx, desk_id, &text)?;
            let case_id = cases::create(&tx, desk_id, &sealed, "open")?;
            audit::record(&tx, &actor, "case.create", &format!("case:{case_id}"))?;
            reports::set_case(&tx, id, Some(case_id))?;
            audit::record(
                &tx,
                &actor,
                "report.case",
                &format!("{object} case:{case_id}"),
            )?;
        } else if let Some(case_id) = form.case_id {
            let case_id = match case_id {
                None => None,
                Some(v) => {
                    let case = cases::get(&tx, v)?;
                    if case.desk_id != desk_id {
                        return Err(StaffError::NotFound);
                    }
                    Some(case.id)
                }
            };
            reports::set_case(&tx, id, case_id)?;
            audit::record(
                &tx,
                &actor,
                "report.case",
                &format!("{object} case:{}", case_id.unwrap_or(0)),
            )?;
        }
        if let Some(note) = form.note {
            let sealed =
                desk::seal_text(&tx, desk_id, crate::crypto::Purpose::Note, note.as_bytes())?;
            reports::add_note(&tx, id, me, &sealed)?;
            audit::record(&tx, &actor, "note.add", &object)?;
        }
        tx.commit().map_err(crate::store::StoreError::from)?;
        Ok(())
    })
    .await?;
    desk_changed(&state);
    Ok(see_other(&format!("/staff/reports/{id}")))
}
