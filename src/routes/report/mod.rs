//! Reporter routes (SPEC §3.2). P4: none of these sets a cookie, logs, or keeps anything
//! from the request; P6: none answers with anything that could identify a report.

mod entry;
mod form;
mod pages;
pub mod submit;

pub use submit::MAX_FORM_BYTES;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(entry::get))
        .route("/report", web::post().to(submit::post))
        .route("/report", web::get().to(pages::report_get))
        .route("/thanks", web::get().to(pages::thanks))
        .route("/outcomes", web::get().to(pages::outcomes));
}
