//! Staff routes (SPEC §3.3): everything under `/staff/`, behind a session cookie
//! (`HttpOnly; SameSite=Strict`, `Secure` on https), with a CSRF token on every
//! state-changing request and the role checked on every route.

mod accounts;
mod audit_log;
mod batches;
mod cases;
mod confirm;
mod desks;
mod districts;
mod enrol;
mod error;
mod guard;
mod home;
mod lists;
mod login;
mod password;
mod poster;
mod publication;
mod reports;
mod saved;
mod second_factor;
mod settings;
mod setup;
mod stats;
mod team;
mod triage;

use actix_web::web;

pub use error::StaffError;

/// The forms staff post, as `web::Form` decodes them (`serde_urlencoded`), with the parsing
/// each route applies first; public for the fuzz targets in `fuzz/`.
pub mod forms {
    pub use super::cases::CaseForm;
    pub use super::enrol::EnrolForm;
    pub use super::login::LoginForm;
    pub use super::settings::SettingsForm;
    pub use super::triage::{Triage, TriageForm};
}

use crate::state::AppState;

/// Blocking database work for a staff request: on the blocking pool, with a connection of
/// its own.
pub(crate) async fn with_db<T, F>(state: &AppState, f: F) -> Result<T, StaffError>
where
    T: Send + 'static,
    F: FnOnce(&mut rusqlite::Connection) -> Result<T, StaffError> + Send + 'static,
{
    let db = state.db.clone();
    web::block(move || f(&mut db.connect()?)).await?
}

/// The released reports as this investigator's session has decrypted them, refreshed when
/// the desk changed since.
pub(crate) async fn session_reports(
    state: &AppState,
    current: &CurrentStaff,
) -> Result<std::sync::Arc<crate::queue::Snapshot>, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    let generation = state
        .desk_generation
        .load(std::sync::atomic::Ordering::SeqCst);
    let held = current
        .0
        .reports
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(s) = held.as_ref().filter(|s| s.generation == generation) {
        return Ok(s.clone());
    }
    let refreshed = with_db(state, move |conn| {
        Ok(crate::queue::refresh(
            conn,
            &key,
            desk_id,
            held.as_deref(),
            generation,
        )?)
    })
    .await;
    let refreshed = match refreshed {
        // The desk key was rotated (by the console or the command line): this session's key
        // is useless, and goes with the session.
        Err(StaffError::Rotated) => {
            state.sessions.end_all_for(current.0.staff_id);
            return Err(StaffError::Rotated);
        }
        other => other?,
    };
    store_desk_boxes_later(state, refreshed.desk_boxes);
    let fresh = std::sync::Arc::new(refreshed.snapshot);
    *current.0.reports.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
    Ok(fresh)
}

/// Stores reports boxed again under the desk key after the response has gone: the session
/// already holds them, and the next unlock will find them quick to open.
fn store_desk_boxes_later(state: &AppState, boxes: Vec<(i64, Vec<u8>)>) {
    if boxes.is_empty() {
        return;
    }
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let stored = db
            .connect()
            .and_then(|mut conn| crate::store::reports::store_desk_boxes(&mut conn, &boxes));
        match stored {
            Ok(()) => tracing::info!(reports = boxes.len(), "reports boxed under the desk key"),
            Err(e) => {
                tracing::warn!(error = %e, "could not store reports boxed under the desk key")
            }
        }
    });
}

/// The status and message for a password check the gate refused (P9); nothing was
/// evaluated. `Stopped` is an internal error.
pub(crate) fn gate_refusal(
    refusal: crate::authentication::gate::Refusal,
) -> Result<(actix_web::http::StatusCode, &'static str), StaffError> {
    use crate::authentication::gate::Refusal;
    use actix_web::http::StatusCode;
    Ok(match refusal {
        Refusal::NameTooLong => (StatusCode::UNPROCESSABLE_ENTITY, "用户名最多 32 个字符。"),
        Refusal::TooManyGuesses => (
            StatusCode::TOO_MANY_REQUESTS,
            "密码错误次数太多，请 15 分钟后再试。",
        ),
        Refusal::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "同时核对密码的人太多，请过几秒钟再试。",
        ),
        Refusal::Stopped => return Err(StaffError::Internal(refusal.to_string())),
    })
}

/// Tells every session that released reports changed.
pub(crate) fn desk_changed(state: &AppState) {
    state
        .desk_generation
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}
pub use guard::{CurrentStaff, SETUP_PATH};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/staff", web::get().to(home::redirect))
        .route("/staff/", web::get().to(home::get))
        .route("/staff/login", web::get().to(login::get))
        .route("/staff/login", web::post().to(login::post))
        .route("/staff/logout", web::post().to(login::logout))
        .route("/staff/setup/{token}", web::get().to(setup::get))
        .route("/staff/setup/{token}", web::post().to(setup::post))
        .route("/staff/enrol/{token}", web::get().to(enrol::get))
        .route("/staff/enrol/{token}", web::post().to(enrol::post))
        .route("/staff/reports", web::get().to(reports::list))
        .route("/staff/reports", web::post().to(reports::filter))
        .route("/staff/reports/{id}", web::get().to(reports::show))
        .route("/staff/reports/{id}", web::post().to(triage::triage))
        .route("/staff/cases", web::get().to(cases::list))
        .route("/staff/cases", web::post().to(cases::save))
        .route("/staff/cases/{id}", web::get().to(cases::show))
        .route("/staff/cases/{id}", web::post().to(cases::save))
        .route(
            "/staff/cases/{id}/publish",
            web::post().to(publication::publish),
        )
        .route("/staff/stats", web::get().to(stats::page))
        .route("/staff/stats/{table}.csv", web::get().to(stats::csv))
        .route("/staff/team", web::get().to(team::list))
        .route("/staff/team/rotate", web::post().to(team::rotate))
        .route("/staff/team/rotate", web::get().to(team::rotate_get))
        .route("/staff/team/{id}/grant", web::post().to(team::grant))
        .route("/staff/districts", web::get().to(districts::list))
        .route(
            "/staff/districts/{id}/approve",
            web::post().to(districts::approve),
        )
        .route("/staff/batches", web::get().to(batches::list))
        .route("/staff/batches", web::post().to(batches::issue))
        .route(
            "/staff/batches/{id}/revoke",
            web::post().to(batches::revoke),
        )
        .route("/staff/desks", web::get().to(desks::list))
        .route("/staff/desks", web::post().to(desks::add))
        .route(
            "/staff/desks/{id}/townships",
            web::post().to(desks::townships),
        )
        .route("/staff/accounts", web::get().to(accounts::list))
        .route("/staff/accounts", web::post().to(accounts::create))
        .route(
            "/staff/accounts/{id}/second-factor",
            web::post().to(accounts::reset_second_factor),
        )
        // P5: the old "reset password" address now resets as `/reset` does: a new link.
        .route(
            "/staff/accounts/{id}/password",
            web::post().to(accounts::reset),
        )
        .route(
            "/staff/accounts/{id}/reset",
            web::post().to(accounts::reset),
        )
        .route(
            "/staff/accounts/{id}/{action}",
            web::post().to(accounts::disable),
        )
        .route("/staff/audit", web::get().to(audit_log::list))
        .route("/staff/audit.csv", web::get().to(audit_log::export))
        .route("/staff/poster.{format}", web::get().to(poster::download))
        .route(second_factor::PATH, web::get().to(second_factor::get))
        .route(second_factor::PATH, web::post().to(second_factor::post))
        .route("/staff/password", web::get().to(password::get))
        .route("/staff/password", web::post().to(password::post))
        .route("/staff/settings", web::get().to(settings::get))
        .route("/staff/settings", web::post().to(settings::post))
        .route("/staff/lists", web::get().to(lists::index))
        .route("/staff/lists/{kind}.csv", web::get().to(lists::export))
        .route("/staff/lists/{kind}", web::get().to(lists::show))
        .route("/staff/lists/{kind}", web::post().to(lists::import));
}
