//! `/staff/password`: a staff member changes their own password. P5: an investigator gets a new
//! own key under the new password, the desk key is granted to it in the same transaction, and
//! the old wrap and grant are deleted — so the old password with a copy of the files taken
//! before opens nothing granted afterwards. The current password is checked behind the
//! password gate, like a login (P9).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{gate_refusal, CurrentStaff, StaffError};
use crate::authentication::password;
use crate::desk;
use crate::routes::render;
use crate::state::AppState;
use crate::store::audit;
use crate::store::staff::{self, Role};

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: Zeroizing<String>,
    #[serde(default)]
    new: Zeroizing<String>,
    #[serde(default)]
    new2: Zeroizing<String>,
}

fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    message: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let mut ctx = current.context();
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    render::page(&state.templates, status, "staff/password.html", &ctx)
}

pub async fn get(state: web::Data<AppState>, current: CurrentStaff) -> HttpResponse {
    page(&state, &current, StatusCode::OK, None, None)
}

pub async fn post(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, StaffError> {
    current.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let refuse = |m: &str| {
        Ok(page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(m),
        ))
    };
    if *form.new != *form.new2 {
        return refuse("两次输入的新密码不一致。");
    }
    if password::check_policy(&form.new).is_err() {
        return refuse("新密码至少 10 位。");
    }
    let id = current.0.staff_id;
    let role = current.0.role;
    let actor = current.actor();
    let db = state.db.clone();
    let session = current.0.clone();
    // P9: the old password's check, the new hash and an investigator's re-wrapped key run
    // behind the gate, counted against the account like a login (a session left open is
    // not a way to guess the password faster).
    let checked = state
        .password_gate
        .check(
            &current.0.username,
            move |guess| -> Result<bool, StaffError> {
                let conn = &mut db.connect()?;
                let account = staff::get(conn, id)?;
                if !password::verify(&form.current, account.password_hash.as_deref()) {
                    audit::record(conn, &actor, "account.password_change.refused", "")?;
                    return Ok(false);
                }
                guess.right();
                let hash =
                    password::hash(&form.new).map_err(|e| StaffError::Internal(e.to_string()))?;
                let tx = conn.transaction().map_err(crate::store::StoreError::from)?;
                if role == Role::Investigator {
                    // P5: a new own key, the desk key granted to it, the old wrap and grant
                    // deleted.
                    desk::change_password(&tx, id, &form.current, &form.new)?;
                }
                staff::set_password_hash(&tx, id, Some(&hash))?;
                audit::record(
                    &tx,
                    &actor,
                    "account.password_change",
                    &format!("staff:{id}"),
                )?;
                tx.commit().map_err(crate::store::StoreError::from)?;
                // This session goes on; the account's other sessions end at their next request.
                session.renew_stamp(&hash);
                Ok(true)
            },
        )
        .await;
    let changed = match checked {
        Ok(changed) => changed?,
        Err(refusal) => {
            let (status, message) = gate_refusal(refusal)?;
            return Ok(page(&state, &current, status, None, Some(message)));
        }
    };
    if !changed {
        return refuse("当前密码不正确。");
    }
    Ok(page(
        &state,
        &current,
        StatusCode::OK,
        Some("密码已更改。"),
        None,
    ))
}
