//! `/staff/totp`: a staff member sets up or removes their second factor (RFC 6238, P8). The
//! secret is shown once as a QR code and in base32, held in the session until a code from the
//! authenticator app confirms it, then stored sealed. When `require_totp` is on, an account
//! without one is sent here after signing in and can reach nothing else until it is set up.
//! Admins can clear another account's second factor (a lost phone) from `/staff/accounts`.

use std::sync::atomic::Ordering;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use rand::rngs::OsRng;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::authentication::password;
use crate::authentication::totp::{self, TotpSecret};
use crate::routes::render;
use crate::state::AppState;
use crate::store::{audit, staff};

pub const PATH: &str = "/staff/totp";

#[derive(Deserialize)]
pub struct SecondFactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    /// Setting up asks for the password again: a session left open is not enough.
    #[serde(default)]
    password: Zeroizing<String>,
}

async fn enrolled(state: &AppState, staff_id: i64) -> Result<bool, StaffError> {
    with_db(
        state,
        move |conn| Ok(staff::totp(conn, staff_id)?.is_some()),
    )
    .await
}

fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    enrolled: bool,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, StaffError> {
    let mut ctx = current.context();
    ctx.insert("enrolled", &enrolled);
    ctx.insert("required", &state.settings.require_totp);
    ctx.insert("due", &current.0.second_factor_due.load(Ordering::SeqCst));
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    if !enrolled {
        let mut pending = current
            .0
            .pending_totp
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let secret = pending.get_or_insert_with(|| TotpSecret::generate(&mut OsRng));
        let url = secret.otpauth_url(&current.0.username);
        let qr = crate::poster::qr_svg(&url, 0, 0, 200)
            .map_err(|e| StaffError::Internal(e.to_string()))?;
        ctx.insert("qr", &qr);
        ctx.insert("secret", secret.base32().as_str());
    }
    Ok(render::page(
        &state.templates,
        status,
        "staff/second_factor.html",
        &ctx,
    ))
}

/// The page again (422) with what was wrong; the secret being set up stays the same.
fn refused(
    state: &AppState,
    current: &CurrentStaff,
    enrolled: bool,
    error: &str,
) -> Result<HttpResponse, StaffError> {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    page(state, current, status, enrolled, None, Some(error))
}

pub async fn get(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    let enrolled = enrolled(&state, current.0.staff_id).await?;
    page(&state, &current, StatusCode::OK, enrolled, None, None)
}

const WRONG_CODE: &str =
    "密码或动态码不对：请输入您的登录密码，和验证器上当前显示的 6 位数字（每 30 秒更换，每个只能用一次）。";

pub async fn post(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<SecondFactorForm>,
) -> Result<HttpResponse, StaffError> {
    current.check_csrf(&form.csrf)?;
    let id = current.0.staff_id;
    let actor = current.actor();
    match form.action.as_str() {
        "enable" => {
            let taken = current
                .0
                .pending_totp
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let Some(secret) = taken else {
                return refused(
                    &state,
                    &current,
                    false,
                    "这个设置页面已过期，请用下面新的二维码重新添加。",
                );
            };
            let typed = form.password.clone();
            let db = state.db.clone();
            // P9: the password is checked behind the gate and counted like a login guess.
            let checked = state
                .password_gate
                .check(
                    &current.0.username,
                    move |guess| -> Result<bool, StaffError> {
                        let account = staff::get(&db.connect()?, id)?;
                        let ok = password::verify(&typed, account.password_hash.as_deref());
                        if ok {
                            guess.right();
                        }
                        Ok(ok)
                    },
                )
                .await;
            let password_ok = match checked {
                Ok(ok) => ok?,
                Err(refusal) => {
                    *current
                        .0
                        .pending_totp
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some(secret);
                    let (status, message) = super::gate_refusal(refusal)?;
                    return page(&state, &current, status, false, None, Some(message));
                }
            };
            let step = secret
                .check(&form.code, totp::now())
                .filter(|_| password_ok);
            let Some(step) = step else {
                *current
                    .0
                    .pending_totp
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(secret);
                return refused(&state, &current, false, WRONG_CODE);
            };
            let sealed = state.totp_sealer.seal(id, &secret, &mut OsRng);
            with_db(&state, move |conn| -> Result<(), StaffError> {
                staff::put_totp(conn, id, &sealed, step)?;
                audit::record(conn, &actor, "totp.enable", &format!("staff:{id}"))?;
                Ok(())
            })
            .await?;
            if current.0.second_factor_due.swap(false, Ordering::SeqCst) {
                return Ok(see_other("/staff/"));
            }
            page(
                &state,
                &current,
                StatusCode::OK,
                true,
                Some("两步验证已启用：以后登录时需要填写验证器上的动态码。"),
                None,
            )
        }
        "disable" => {
            if state.settings.require_totp {
                return Err(StaffError::Forbidden);
            }
            let sealer = state.totp_sealer.clone();
            let code = form.code.clone();
            let removed = with_db(&state, move |conn| -> Result<bool, StaffError> {
                let Some(sealed) = staff::totp(conn, id)? else {
                    return Ok(true);
                };
                let secret = sealer
                    .open(id, &sealed)
                    .map_err(|e| StaffError::Internal(e.to_string()))?;
                let accepted = match secret.check(&code, totp::now()) {
                    Some(step) => staff::claim_totp_step(conn, id, step)?,
                    None => false,
                };
                if accepted {
                    staff::delete_totp(conn, id)?;
                    audit::record(conn, &actor, "totp.disable", &format!("staff:{id}"))?;
                }
                Ok(accepted)
            })
            .await?;
            if removed {
                page(
                    &state,
                    &current,
                    StatusCode::OK,
                    false,
                    Some("两步验证已关闭。"),
                    None,
                )
            } else {
                refused(&state, &current, true, WRONG_CODE)
            }
        }
        _ => Err(StaffError::NotFound),
    }
}
