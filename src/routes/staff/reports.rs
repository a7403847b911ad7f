//! The investigators' queue and one report, decrypted in memory with the session's desk key
//! (P5), with the one triage form that `triage.rs` saves. Admins get 403 (SPEC §3.3). Every
//! view is audited (P8).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::home::see_other;
use super::{session_reports, with_db, CurrentStaff, StaffError};
use crate::crypto::desk_box::BoxKey;
use crate::desk::{self, OpenedReport};
use crate::domain::{Category, Channel, Listed, ReportStatus};
use crate::queue::{self, Filter};
use crate::reference::Choices;
use crate::routes::choice::options;
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff;
use crate::store::{audit, reports};

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
    /// P11, for the city desk only: the desk the report was filed to, and whether it was kept
    /// from that district.
    filed_to: Option<String>,
    city_only: bool,
}

impl<'a> View<'a> {
    fn new(report: &'a OpenedReport, choices: &Choices, desks: Option<&DeskNames>) -> View<'a> {
        View {
            filed_to: desks.map(|names| {
                if report.city_only && report.desk == crate::reference::CITY_DESK {
                    // City-only with no district named: not a city department's task.
                    return crate::queue::UNNAMED_DISTRICT.to_string();
                }
                names
                    .get(&report.desk)
                    .cloned()
                    .unwrap_or_else(|| report.desk.clone())
            }),
            city_only: desks.is_some() && report.city_only,
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

/// Desk names by code, as the city desk's pages show where a report was filed.
type DeskNames = HashMap<String, String>;

/// P11: for an investigator of the city desk where district desks exist, every desk's name
/// by code (the city's own as 市级部门); `None` for a district desk, whose reports are all
/// its own.
async fn desk_names(
    state: &AppState,
    current: &CurrentStaff,
) -> Result<Option<DeskNames>, StaffError> {
    let desk_id = current.desk_id()?;
    with_db(state, move |conn| {
        let desks = crate::store::desks::list(conn)?;
        let city = desks.iter().any(|d| d.id == desk_id && d.is_city());
        Ok((city && desks.len() > 1).then(|| {
            desks
                .into_iter()
                .map(|d| {
                    let name = if d.is_city() {
                        "市级部门（直接交市里）".to_string()
                    } else {
                        d.name
                    };
                    (d.code, name)
                })
                .collect()
        }))
    })
    .await
}

/// `GET /staff/reports?tab=…&page=…`: the queue under the session's filters. P8: every read
/// is audited (tab and page only; the filters were audited when set).
pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
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
    let case_id = filter.case_id;
    let (team, case) = with_db(&state, move |conn| {
        let team = staff::desk_members(conn, desk_id)?;
        // The case the queue is narrowed to, by title: one case opened, not all of them.
        let case = match case_id {
            Some(id) => match super::cases::desk_case(conn, &key, desk_id, id) {
                Ok(case) => Some(case),
                Err(StaffError::NotFound) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok((team, case))
    })
    .await?;
    let page = queue::apply(&snapshot.reports, &filter);
    let choices = state.choices();
    let desks = desk_names(&state, &current).await?;
    let rows: Vec<View> = page
        .rows
        .iter()
        .map(|r| View::new(r, &choices, desks.as_ref()))
        .collect();
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
    ctx.insert("filtered", &filter.is_filtered());
    ctx.insert("team", &team);
    let mut desk_options: Vec<(String, String)> = desks.into_iter().flatten().collect();
    desk_options.sort();
    ctx.insert("desks", &desk_options);
    ctx.insert("case", &case);
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
pub(super) fn desk_report(
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
    query: web::Query<HashMap<String, String>>,
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
    let desks = desk_names(&state, &current).await?;
    let mut ctx = current.context();
    ctx.insert("r", &View::new(&report, &choices, desks.as_ref()));
    ctx.insert("notes", &notes);
    ctx.insert("team", &team);
    ctx.insert("cases", &all_cases);
    ctx.insert(
        "statuses",
        &options(ReportStatus::ALL, ReportStatus::code, ReportStatus::label),
    );
    // "← 返回队列" goes back to the tab and page the session's queue was on; the filters
    // are in the session already (P8), so the link carries nothing of them.
    let queue = current
        .0
        .filter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    ctx.insert("queue_tab", queue.tab.code());
    ctx.insert("queue_page", &queue.page.max(1));
    ctx.insert("queue_filtered", &queue.is_filtered());
    super::saved::insert(&mut ctx, &query);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/report.html",
        &ctx,
    ))
}
