//! `/staff/login` and `/staff/logout`. Argon2id behind the password gate (P9: a few at once,
//! 503 beyond, each guess counted before it is evaluated); an unknown username costs the
//! same as a wrong password and is audited as `unknown`; an account with a second factor
//! also needs a fresh TOTP code, and every failure says the same and counts towards the
//! per-account limit (P8). An investigator's login also unwraps the desk key into the
//! session (P5).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tera::Context;
use zeroize::Zeroizing;

use super::guard::same_origin;
use super::{with_db, CurrentStaff, StaffError};
use crate::authentication::gate::{self, Refusal};
use crate::authentication::session::{AccountStamp, COOKIE};
use crate::authentication::{password, totp};
use crate::desk;
use crate::routes::render;
use crate::state::AppState;
use crate::store::audit;
use crate::store::staff::{self, Role};

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: Zeroizing<String>,
    /// The TOTP code, for accounts with a second factor.
    #[serde(default)]
    pub code: String,
}

impl LoginForm {
    /// The username as it is looked up, trimmed; `None` when it is longer than any account's
    /// (P9: such a name costs nothing — not counted, hashed, audited or echoed).
    pub fn username(&self) -> Option<&str> {
        Some(self.username.trim()).filter(|u| u.len() <= gate::MAX_USERNAME_BYTES)
    }
}

pub async fn get(state: web::Data<AppState>, current: Option<CurrentStaff>) -> HttpResponse {
    if current.is_some() {
        return see_other("/staff/");
    }
    login_page(&state, StatusCode::OK, "", None)
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let mut ctx = Context::new();
    ctx.insert("username", username);
    ctx.insert("error", &error);
    render::page(&state.templates, status, "staff/login.html", &ctx)
}

/// A login the gate did not let through: nothing was evaluated. The name is kept in the
/// form, the password never is.
fn refused(state: &AppState, username: &str, refusal: Refusal) -> Result<HttpResponse, StaffError> {
    let (status, message) = super::gate_refusal(refusal)?;
    let message = match refusal {
        Refusal::TooManyGuesses => "登录失败次数太多，请 15 分钟后再试。",
        Refusal::Busy => "同时登录的人太多，请过几秒钟再点一次“登录”。",
        _ => message,
    };
    let username = if refusal == Refusal::NameTooLong {
        ""
    } else {
        username
    };
    let mut page = login_page(state, status, username, Some(message));
    if refusal == Refusal::Busy {
        page.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("5"),
        );
    }
    Ok(page)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

enum Outcome {
    Ok {
        id: i64,
        role: Role,
        desk_id: Option<i64>,
        desk: Option<crate::crypto::SecretKey>,
        second_factor_due: bool,
        /// The account as it was checked, for the session to compare with later.
        stamp: AccountStamp,
    },
    Refused,
}

pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, StaffError> {
    same_origin(&req)?;
    let form = form.into_inner();
    let Some(username) = form.username().map(str::to_string) else {
        return refused(&state, "", Refusal::NameTooLong);
    };
    let LoginForm { password, code, .. } = form;
    let name = username.clone();
    let db = state.db.clone();
    let sealer = state.totp_sealer.clone();
    let require_totp = state.settings.require_totp;
    // P9: the whole login's Argon2 work (the password hash, an investigator's own key) runs
    // behind the gate, and this guess is counted before it is evaluated.
    let checked = state
        .password_gate
        .check(&username, move |guess| -> Result<Outcome, StaffError> {
            let conn = &mut db.connect()?;
            let found = staff::find(conn, &name)?;
            let active = found.as_ref().filter(|a| !a.disabled);
            // An account that has not enrolled has no password: the dummy hash answers.
            let ok = password::verify(&password, active.and_then(|a| a.password_hash.as_deref()));
            let account = match active {
                Some(a) if ok => a,
                _ => {
                    // P8: never the name as typed; an account by its id.
                    let actor = found
                        .as_ref()
                        .map_or_else(|| "unknown".into(), |a| format!("staff:{}", a.id));
                    audit::record(conn, &actor, "login.failed", "")?;
                    return Ok(Outcome::Refused);
                }
            };
            let second_factor = staff::totp(conn, account.id)?;
            if let Some(sealed) = &second_factor {
                let secret = sealer
                    .open(account.id, sealed)
                    .map_err(|e| StaffError::Internal(e.to_string()))?;
                let accepted = match secret.check(&code, totp::now()) {
                    Some(step) => staff::claim_totp_step(conn, account.id, step)?,
                    None => false,
                };
                if !accepted {
                    let actor = format!("staff:{}", account.id);
                    audit::record(conn, &actor, "login.failed", "second factor")?;
                    return Ok(Outcome::Refused);
                }
            }
            guess.right();
            let actor = format!("staff:{}", account.id);
            let desk = match account.role {
                Role::Investigator => desk::unlock(conn, account.id, &password)?,
                Role::Admin => None,
            };
            staff::touch_last_login(conn, account.id)?;
            audit::record(conn, &actor, "login", "")?;
            Ok(Outcome::Ok {
                id: account.id,
                role: account.role,
                desk_id: account.desk_id,
                desk,
                second_factor_due: require_totp && second_factor.is_none(),
                stamp: AccountStamp::of(account.password_hash.as_deref()),
            })
        })
        .await;
    let outcome = match checked {
        Ok(outcome) => outcome?,
        Err(refusal) => return refused(&state, &username, refusal),
    };
    match outcome {
        Outcome::Refused => Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &username,
            Some("用户名、密码或动态码不正确。"),
        )),
        Outcome::Ok {
            id,
            role,
            desk_id,
            desk,
            second_factor_due,
            stamp,
        } => {
            tracing::info!(staff_id = id, "staff login");
            let unlocked = desk.is_some();
            let token = state
                .sessions
                .start(id, username, role, desk_id, desk, stamp);
            if let Some(session) = state.sessions.get(&token) {
                session
                    .second_factor_due
                    .store(second_factor_due, std::sync::atomic::Ordering::SeqCst);
            }
            // Unlocking opens the released reports once, so the desk's pages answer from
            // memory afterwards.
            if let Some(session) = state.sessions.get(&token).filter(|_| unlocked) {
                super::session_reports(&state, &CurrentStaff(session)).await?;
            }
            let cookie = Cookie::build(COOKIE, token)
                .path("/staff")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(state.settings.is_https())
                .finish();
            Ok(HttpResponse::SeeOther()
                .insert_header(("Location", "/staff/"))
                .cookie(cookie)
                .finish())
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session; dropping it zeroizes the desk key it held (P5).
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    current: CurrentStaff,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, StaffError> {
    current.check_csrf(&form.csrf)?;
    if let Some(cookie) = req.cookie(COOKIE) {
        state.sessions.end(cookie.value());
    }
    let actor = current.actor();
    with_db(&state, move |conn| -> Result<(), StaffError> {
        audit::record(conn, &actor, "logout", "")?;
        Ok(())
    })
    .await?;
    let mut gone = Cookie::build(COOKIE, "").path("/staff").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/staff/login"))
        .cookie(gone)
        .finish())
}
