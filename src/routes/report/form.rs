//! Rendering the entry page and form, with whatever the reporter typed and the messages
//! beside their fields. Nothing typed is ever lost (SPEC §3.2).
//!
//! A page that comes back from `POST /report` lists its problems at the top, in the order of
//! the fields, each a link to its field; a form that holds nothing but a card code (Enter
//! pressed in the code field, or 提交 before writing anything) gets one calm line instead.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use tera::Context;

use crate::domain::identifying::Finding;
use crate::domain::{Category, Channel, FieldErrors, Listed, RawReport};
use crate::routes::choice::{options, Choice};
use crate::routes::render;
use crate::state::AppState;

/// What goes on the form besides the values.
#[derive(Default)]
pub struct Feedback<'a> {
    pub errors: FieldErrors,
    pub findings: Vec<Finding>,
    /// A message at the top of the form (card refused, too many attempts, cannot store).
    pub notice: Option<&'a str>,
}

/// Whether the page is open inside an in-app browser (WeChat, QQ, …). The user agent is read
/// during this request only and never stored (SPEC §3.2).
fn in_app_browser(req: &HttpRequest) -> bool {
    req.headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| {
            [
                "MicroMessenger",
                "QQ/",
                "AlipayClient",
                "DingTalk",
                "wxwork",
                "Weibo",
            ]
            .iter()
            .any(|m| ua.contains(m))
        })
}

/// The fields in the order the form shows them, with the name the warning gives each. The
/// code comes last, as the printed card says (最后填入上面的编码).
const FIELDS: &[(&str, &str)] = &[
    ("category", "事项类别"),
    ("channel", "怎么布置下来的"),
    ("department", "布置任务的部门"),
    ("township", "乡镇（街道）"),
    ("desk", "交给哪个区（县）"),
    ("occurred", "布置的月份"),
    ("listed", "是否在准入清单内"),
    ("certificate", "要求开的证明"),
    ("admission_item", "准入清单上的哪一项"),
    ("body", "发生了什么"),
    ("token", "减负凭证编码"),
];

/// What the month picker's message says when nothing was picked. The parser's own message
/// (“例如 2026-05”) is right only where the browser shows a text box instead of a picker.
const MONTH_MISSING: &str = "请选择布置的月份（记不清就选个大概）。";

/// One problem in the list at the top of the page, linking to its field.
#[derive(Serialize)]
struct Problem<'a> {
    field: &'a str,
    message: &'a str,
}

/// A P7 finding as the warning shows it, with the name of the field it is in.
#[derive(Serialize)]
struct FindingView<'a> {
    field: &'a str,
    label: &'a str,
    kind: &'a str,
    before: &'a str,
    found: &'a str,
    after: &'a str,
}

fn label_of(field: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or("", |(_, l)| l)
}

/// Whether the reporter wrote nothing but (perhaps) the card code: every other field blank.
fn only_a_code(raw: &RawReport) -> bool {
    [
        &raw.category,
        &raw.channel,
        &raw.department,
        &raw.township,
        &raw.desk,
        &raw.occurred,
        &raw.listed,
        &raw.body,
        &raw.certificate,
        &raw.admission_item,
    ]
    .iter()
    .all(|v| v.trim().is_empty())
}

/// The messages as the page shows them: for a form with only a code, nothing but a problem
/// with the code itself; a missing month worded for a picker.
fn shown_errors(raw: &RawReport, errors: &FieldErrors, calm: bool) -> FieldErrors {
    let mut shown = FieldErrors::default();
    for &(field, _) in FIELDS {
        let Some(message) = errors.get(field) else {
            continue;
        };
        if calm && (field != "token" || raw.token.trim().is_empty()) {
            continue;
        }
        if field == "occurred" && raw.occurred.trim().is_empty() {
            shown.add(field, MONTH_MISSING);
        } else {
            shown.add(field, message);
        }
    }
    if let Some(message) = errors.get("confirm") {
        shown.add("confirm", message);
    }
    shown
}

pub fn render(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    raw: &RawReport,
    feedback: Feedback<'_>,
) -> HttpResponse {
    let calm = feedback.notice.is_none()
        && feedback.findings.is_empty()
        && !feedback.errors.is_empty()
        && only_a_code(raw);
    let errors = shown_errors(raw, &feedback.errors, calm);
    let problems: Vec<Problem> = FIELDS
        .iter()
        .filter_map(|&(field, _)| errors.get(field).map(|message| Problem { field, message }))
        .collect();
    let findings: Vec<FindingView> = feedback
        .findings
        .iter()
        .map(|f| FindingView {
            field: f.field,
            label: label_of(f.field),
            kind: f.kind,
            before: &f.before,
            found: &f.found,
            after: &f.after,
        })
        .collect();
    let categories: Vec<Choice> = Category::ALL
        .iter()
        .map(|c| Choice {
            code: c.code(),
            label: c.label(),
            example: c.example(),
        })
        .collect();
    let channels = options(Channel::ALL, Channel::code, Channel::label);
    let listed = options(Listed::ALL, Listed::code, Listed::label);
    let mut ctx = Context::new();
    ctx.insert("form", raw);
    ctx.insert("errors", &errors);
    ctx.insert("problems", &problems);
    ctx.insert("calm", &calm);
    ctx.insert("findings", &findings);
    ctx.insert("notice", &feedback.notice);
    // A refused card (403) is the one notice about a field: it links to the code.
    ctx.insert(
        "notice_field",
        &(status == StatusCode::FORBIDDEN).then_some("token"),
    );
    // Only a page that answers a POST carries the script: it keeps that page, which holds
    // the report, out of the history once the corrected form is sent (static/form.js).
    ctx.insert("resubmitted", &(status != StatusCode::OK));
    ctx.insert("categories", &categories);
    ctx.insert("channels", &channels);
    ctx.insert("listed_options", &listed);
    ctx.insert("in_app", &in_app_browser(req));
    ctx.insert("choices", &*state.choices());
    ctx.insert("not_on_list", crate::reference::NOT_ON_LIST);
    ctx.insert("city_desk", crate::reference::CITY_DESK);
    ctx.insert(
        "this_month",
        &crate::store::today().format("%Y-%m").to_string(),
    );
    render::page(&state.templates, status, "entry.html", &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(raw: &RawReport) -> FieldErrors {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        raw.parse(today, &crate::reference::Choices::default())
            .expect_err("an incomplete form")
    }

    #[test]
    fn a_form_with_only_a_code_shows_no_red_field() {
        let raw = RawReport::from_form(b"token=ABCD-EFGH-JKMN-PQRS-TVWX");
        assert!(only_a_code(&raw));
        let errors = errors_of(&raw);
        assert!(errors.get("body").is_some());
        let shown = shown_errors(&raw, &errors, true);
        // Only the code's own problem (this one fails its check character) is kept.
        assert!(shown.get("token").is_some());
        for field in [
            "category",
            "channel",
            "department",
            "occurred",
            "listed",
            "body",
        ] {
            assert!(shown.get(field).is_none(), "{field}");
        }
        let empty = RawReport::from_form(b"");
        assert!(only_a_code(&empty));
        assert!(shown_errors(&empty, &errors_of(&empty), true).is_empty());
    }

    #[test]
    fn a_started_form_keeps_every_message_and_a_missing_month_asks_to_pick_one() {
        let raw = RawReport::from_form(b"token=x&body=%E5%86%99%E4%BA%86%E4%B8%80%E4%BA%9B");
        assert!(!only_a_code(&raw));
        let errors = errors_of(&raw);
        let shown = shown_errors(&raw, &errors, false);
        assert_eq!(shown.get("occurred"), Some(MONTH_MISSING));
        assert!(
            !MONTH_MISSING.contains("2026"),
            "no format to type into a picker"
        );
        for field in [
            "token",
            "category",
            "channel",
            "department",
            "listed",
            "body",
        ] {
            assert_eq!(shown.get(field), errors.get(field), "{field}");
        }
        // A month typed in a browser without a picker keeps the parser's format hint.
        let typed = RawReport::from_form(b"occurred=May");
        let shown = shown_errors(&typed, &errors_of(&typed), false);
        assert!(shown.get("occurred").unwrap().contains("2026-05"));
    }
}
