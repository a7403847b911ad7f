//! Stylesheets, compiled in. No script is served at all: every page works without one.

use actix_web::{web, HttpResponse};

const SITE_CSS: &str = include_str!("../../static/site.css");
const STAFF_CSS: &str = include_str!("../../static/staff.css");

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/site.css", web::get().to(|| css(SITE_CSS)))
        .route("/static/staff.css", web::get().to(|| css(STAFF_CSS)));
}

async fn css(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(body)
}
