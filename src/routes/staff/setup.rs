//! `/staff/setup/{token}`: the one-time first-run page printed by `jianfu serve`. It creates
//! the first admin only, with the password they choose, and hands them an enrolment link for
//! the first investigator (the head of the desk): P5, the person who runs the server never
//! sets an investigator's password nor sees the recovery code. Then the link is dead.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tera::Context;
use zeroize::Zeroizing;

use super::guard::same_origin;
use super::{with_db, StaffError};
use crate::accounts::{self, AccountError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::{self, Role};
use crate::store::{meta, StoreError};

#[derive(Deserialize, Serialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    admin_username: String,
    #[serde(default, skip_serializing)]
    admin_password: Zeroizing<String>,
    #[serde(default, skip_serializing)]
    admin_password2: Zeroizing<String>,
    #[serde(default)]
    investigator_username: String,
}

/// Whether `token` is the live setup token: it matches the stored hash and no staff account
/// exists yet.
fn token_is_live(conn: &rusqlite::Connection, token: &str) -> Result<bool, StaffError> {
    if staff::count(conn, None)? > 0 {
        return Ok(false);
    }
    let Some(stored) = meta::get(conn, meta::SETUP_TOKEN_HASH)? else {
        return Ok(false);
    };
    let hash = Sha256::digest(token.as_bytes());
    Ok(bool::from(hash.as_slice().ct_eq(&stored)))
}

fn page(
    state: &AppState,
    status: StatusCode,
    form: &SetupForm,
    error: Option<&str>,
) -> HttpResponse {
    let mut ctx = Context::new();
    ctx.insert("form", form);
    ctx.insert("error", &error);
    render::page(&state.templates, status, "staff/setup.html", &ctx)
}

fn dead_link(state: &AppState) -> HttpResponse {
    render::message(
        &state.templates,
        StatusCode::NOT_FOUND,
        "设置链接无效",
        "这个一次性设置链接已经用过或不正确。请用已有账号登录，或在服务器上用 `jianfu user add` 添加账号。",
    )
}

pub async fn get(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, StaffError> {
    let live = with_db(&state, move |conn| token_is_live(conn, &token)).await?;
    if !live {
        return Ok(dead_link(&state));
    }
    Ok(page(&state, StatusCode::OK, &SetupForm::default(), None))
}

pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, StaffError> {
    same_origin(&req)?;
    let form = form.into_inner();
    if *form.admin_password != *form.admin_password2 {
        return Ok(page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            Some("两次输入的密码不一致。"),
        ));
    }
    let token = token.into_inner();
    let admin = form.admin_username.trim().to_string();
    let investigator = form.investigator_username.trim().to_string();
    let admin_pw = form.admin_password.clone();
    let result = with_db(&state, move |conn| -> Result<Option<_>, StaffError> {
        if !token_is_live(conn, &token)? {
            return Ok(None);
        }
        let created = (|| {
            // Both are checked before either is created, so a mistake leaves the link usable.
            accounts::validate(&admin, &admin_pw)?;
            accounts::validate_username(&investigator)?;
            if admin == investigator {
                return Err(AccountError::Store(StoreError::Conflict(
                    "管理员和调查人员需要两个不同的用户名。".into(),
                )));
            }
            let city = crate::store::desks::city(conn)?.id;
            accounts::add(conn, "setup", &admin, Role::Admin, city, &admin_pw, None)?;
            accounts::invite(conn, "setup", &investigator, Role::Investigator, city)
        })();
        if created.is_ok() {
            meta::delete(conn, meta::SETUP_TOKEN_HASH)?;
        }
        Ok(Some(created))
    })
    .await?;
    match result {
        None => Ok(dead_link(&state)),
        Some(Err(e)) => {
            let message = match e {
                AccountError::BadUsername | AccountError::Password(_) => e.to_string(),
                AccountError::Store(StoreError::Conflict(m)) => m,
                e => return Err(StaffError::Internal(e.to_string())),
            };
            Ok(page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                Some(&message),
            ))
        }
        Some(Ok(invitation)) => {
            let mut ctx = Context::new();
            ctx.insert(
                "link",
                &format!("{}{}", state.settings.public_url, invitation.link.path()),
            );
            ctx.insert("hours", &accounts::LINK_HOURS);
            ctx.insert("admin", form.admin_username.trim());
            ctx.insert("investigator", form.investigator_username.trim());
            Ok(render::page(
                &state.templates,
                StatusCode::OK,
                "staff/setup_done.html",
                &ctx,
            ))
        }
    }
}
