//! The baseline of the benchmark: a bare actix-web handler that reads and parses the same
//! report form as `POST /report` (same 64 KiB limit, same decoder) and answers 303 to
//! `/thanks` — no validation, sealing or storage. It measures what the HTTP stack alone
//! costs on this machine. Usage: `bare_handler 127.0.0.1:PORT`.

use actix_web::{web, App, HttpResponse, HttpServer};
use jianfu::domain::RawReport;
use jianfu::routes::report::MAX_FORM_BYTES;

async fn report(body: web::Bytes) -> HttpResponse {
    let raw = RawReport::from_form(&body);
    // Keep the parse from being optimized away without logging anything.
    std::hint::black_box(&raw);
    HttpResponse::SeeOther()
        .insert_header(("Location", "/thanks"))
        .finish()
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
                .route("/report", web::post().to(report))
        })
        .bind(&addr)?
        .run()
        .await
    })
}
