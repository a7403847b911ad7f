//! Rendering the entry page and form, with whatever the reporter typed and the messages
//! beside their fields. Nothing typed is ever lost (SPEC §3.2).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
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

pub fn render(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    raw: &RawReport,
    feedback: Feedback<'_>,
) -> HttpResponse {
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
    ctx.insert("errors", &feedback.errors);
    ctx.insert("findings", &feedback.findings);
    ctx.insert("notice", &feedback.notice);
    ctx.insert("categories", &categories);
    ctx.insert("channels", &channels);
    ctx.insert("listed_options", &listed);
    ctx.insert("in_app", &in_app_browser(req));
    ctx.insert("choices", &*state.choices());
    ctx.insert("not_on_list", crate::reference::NOT_ON_LIST);
    ctx.insert(
        "this_month",
        &crate::store::today().format("%Y-%m").to_string(),
    );
    render::page(&state.templates, status, "entry.html", &ctx)
}
