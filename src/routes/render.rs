//! Turning a template and a context into a response; the one place a template error is
//! logged (by template name only) and turned into a plain 500.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use tera::{Context, Tera};

pub fn page(tera: &Tera, status: StatusCode, template: &str, ctx: &Context) -> HttpResponse {
    match tera.render(template, ctx) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(template, error = ?e, "template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("服务暂时出错，请稍后再试。")
        }
    }
}

/// A simple page with a title and one paragraph (404, 413, …).
pub fn message(tera: &Tera, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let mut ctx = Context::new();
    ctx.insert("title", title);
    ctx.insert("text", text);
    page(tera, status, "message.html", &ctx)
}
