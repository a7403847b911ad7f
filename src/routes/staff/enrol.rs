//! `/staff/enrol/{token}`: the one-time link at which a staff member sets their own password
//! (P5). An admin makes the link and never learns the password; an investigator's own key
//! pair is made in this request, and the first investigator of a desk creates the desk key
//! and is the only person shown its recovery code (once, on the page that answers this POST).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tera::Context;
use zeroize::Zeroizing;

use super::guard::same_origin;
use super::{with_db, StaffError};
use crate::accounts::{self, AccountError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::Role;

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    password2: Zeroizing<String>,
}

impl EnrolForm {
    /// The new password, when both fields agree (the policy is checked by `accounts::enrol`).
    pub fn new_password(&self) -> Option<&Zeroizing<String>> {
        (*self.password == *self.password2).then_some(&self.password)
    }
}

fn dead_link(state: &AppState) -> HttpResponse {
    render::message(
        &state.templates,
        StatusCode::NOT_FOUND,
        "链接无效",
        "这个一次性链接已经用过、已被更换，或已过期（72 小时）。请向管理员要一个新链接。如果您没有用过这个链接，请立刻告诉管理员和调查组：可能有人抢先用了它。",
    )
}

fn form_page(
    state: &AppState,
    status: StatusCode,
    username: &str,
    role: Role,
    error: Option<&str>,
) -> HttpResponse {
    let mut ctx = Context::new();
    ctx.insert("username", username);
    ctx.insert("role", &role);
    ctx.insert("error", &error);
    render::page(&state.templates, status, "staff/enrol.html", &ctx)
}

pub async fn get(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, StaffError> {
    let token = token.into_inner();
    let account = with_db(&state, move |conn| {
        accounts::link_account(conn, &token).map_err(|e| StaffError::Internal(e.to_string()))
    })
    .await?;
    Ok(match account {
        Some(a) => form_page(&state, StatusCode::OK, &a.username, a.role, None),
        None => dead_link(&state),
    })
}

pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<EnrolForm>,
) -> Result<HttpResponse, StaffError> {
    same_origin(&req)?;
    let token = token.into_inner();
    let form = form.into_inner();
    let t = token.clone();
    let Some(account) = with_db(&state, move |conn| {
        accounts::link_account(conn, &t).map_err(|e| StaffError::Internal(e.to_string()))
    })
    .await?
    else {
        return Ok(dead_link(&state));
    };
    let refuse = |message: &str| {
        Ok(form_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &account.username,
            account.role,
            Some(message),
        ))
    };
    let Some(password) = form.new_password().cloned() else {
        return refuse("两次输入的密码不一致。");
    };
    let db = state.db.clone();
    // P9: the new hash and key wrap (Argon2) run behind the password gate like a login.
    let enrolled = state
        .password_gate
        .work(move || -> Result<_, StaffError> {
            Ok(accounts::enrol(&mut db.connect()?, &token, &password))
        })
        .await;
    let enrolled = match enrolled {
        Ok(result) => result?,
        Err(refusal) => {
            let (status, message) = super::gate_refusal(refusal)?;
            return Ok(form_page(
                &state,
                status,
                &account.username,
                account.role,
                Some(message),
            ));
        }
    };
    let enrolled = match enrolled {
        Ok(e) => e,
        Err(AccountError::Password(e)) => return refuse(&e.to_string()),
        Err(AccountError::DeadLink) => return Ok(dead_link(&state)),
        Err(e) => return Err(StaffError::Internal(e.to_string())),
    };
    tracing::info!(staff_id = enrolled.account.id, "account enrolled");
    let mut ctx = Context::new();
    ctx.insert("username", &enrolled.account.username);
    ctx.insert("role", &enrolled.account.role);
    ctx.insert("fingerprint", &enrolled.fingerprint);
    ctx.insert(
        "recovery_code",
        &enrolled.recovery.as_ref().map(|r| r.expose()),
    );
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/enrolled.html",
        &ctx,
    ))
}
