//! The baselines of the benchmark (issue #12, SPEC §4). A bare actix-web handler that reads and
//! parses the same report form as `POST /report` (same 64 KiB limit, same decoder) and answers
//! 303 to `/thanks` — no validation, sealing or storage: what the HTTP stack alone costs on
//! this machine. With `--durable FILE` it also appends the form to FILE and `fdatasync`s it
//! (on the blocking pool) before answering: what one durable acknowledgement costs at least.
//!
//! Usage: `bare_handler 127.0.0.1:PORT [--durable FILE]`.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use jianfu::domain::RawReport;
use jianfu::routes::report::MAX_FORM_BYTES;

fn see_other() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/thanks"))
        .finish()
}

async fn report(body: web::Bytes) -> HttpResponse {
    let raw = RawReport::from_form(&body);
    // Keep the parse from being optimized away without logging anything.
    std::hint::black_box(&raw);
    see_other()
}

/// The form appended to the log and flushed to disk before the answer, one request at a time
/// under the file's lock (as a durable answer must).
async fn durable(log: web::Data<Arc<Mutex<File>>>, body: web::Bytes) -> HttpResponse {
    let raw = RawReport::from_form(&body);
    std::hint::black_box(&raw);
    let log = log.get_ref().clone();
    let written = web::block(move || -> std::io::Result<()> {
        let mut file = log.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&body)?;
        file.write_all(b"\n")?;
        file.sync_data()
    })
    .await;
    match written {
        Ok(Ok(())) => see_other(),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".into());
    let log = match (args.next().as_deref(), args.next()) {
        (Some("--durable"), Some(path)) => Some(Arc::new(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ))),
        (None, _) => None,
        _ => {
            eprintln!("usage: bare_handler ADDR [--durable FILE]");
            std::process::exit(2);
        }
    };
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            let app = App::new().app_data(web::PayloadConfig::new(MAX_FORM_BYTES));
            match &log {
                Some(log) => app
                    .app_data(web::Data::new(log.clone()))
                    .route("/report", web::post().to(durable)),
                None => app.route("/report", web::post().to(report)),
            }
        })
        .bind(&addr)?
        .run()
        .await
    })
}
