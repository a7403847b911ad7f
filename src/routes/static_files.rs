//! Stylesheets, the icon and the one script, compiled in. The script is progressive
//! enhancement for pages that answer a POST; every page works without it.

use actix_web::{web, HttpResponse};

const SITE_CSS: &str = include_str!("../../static/site.css");
const STAFF_CSS: &str = include_str!("../../static/staff.css");
const ICON_SVG: &str = include_str!("../../static/icon.svg");
const FORM_JS: &str = include_str!("../../static/form.js");

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/static/site.css",
        web::get().to(|| file("text/css; charset=utf-8", SITE_CSS)),
    )
    .route(
        "/static/staff.css",
        web::get().to(|| file("text/css; charset=utf-8", STAFF_CSS)),
    )
    .route(
        "/static/icon.svg",
        web::get().to(|| file("image/svg+xml", ICON_SVG)),
    )
    .route(
        "/static/form.js",
        web::get().to(|| file("text/javascript; charset=utf-8", FORM_JS)),
    );
}

async fn file(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok().content_type(content_type).body(body)
}
