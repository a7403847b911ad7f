//! HTTP routes: the reporter side (no cookie, no JavaScript, no log) and the staff side.

pub mod choice;
pub mod headers;
pub mod render;
pub mod report;
pub mod staff;
pub mod static_files;

use actix_web::web;

/// Every route, so tests and the server build the same app.
pub fn app_config(cfg: &mut web::ServiceConfig) {
    report::config(cfg);
    staff::config(cfg);
    static_files::config(cfg);
}
