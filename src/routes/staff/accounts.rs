//! `/staff/accounts` (admins): list, invite, disable, re-enable and reset staff accounts.
//! P5: the account form takes a username, a role and (for an investigator) a desk, and answers
//! with a one-time enrolment link; whatever else is posted, no password is set. A reset
//! destroys the account's password, own key and grant and issues a new link. Admins never see
//! a recovery code or hold a desk key.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{with_db, CurrentStaff, StaffError};
use crate::accounts::{self, AccountError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::{self, Role};

/// The account form. P5: only these fields are read — a `password` posted with it is ignored.
#[derive(Deserialize, Serialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    /// An investigator's desk, by code (default: the city's).
    #[serde(default)]
    desk: String,
    #[serde(default, skip_serializing)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
}

/// A link just made, shown once with whom it is for.
#[derive(Serialize)]
struct ShownLink {
    username: String,
    url: String,
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    form: &CreateForm,
    message: Option<&str>,
    error: Option<&str>,
    link: Option<ShownLink>,
) -> Result<HttpResponse, StaffError> {
    let (accounts, desks) = with_db(state, move |conn| -> Result<_, StaffError> {
        Ok((staff::list(conn)?, desk_views(conn)?))
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("accounts", &accounts);
    ctx.insert("desks", &desks);
    ctx.insert("form", form);
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    ctx.insert("link", &link);
    ctx.insert("hours", &accounts::LINK_HOURS);
    ctx.insert("my_id", &current.0.staff_id);
    Ok(render::page(
        &state.templates,
        status,
        "staff/accounts.html",
        &ctx,
    ))
}

/// The desks as the console shows them: code, name, and the fingerprint of the desk key once
/// it exists, for investigators to compare after any change (P5).
pub(super) fn desk_views(
    conn: &rusqlite::Connection,
) -> Result<Vec<serde_json::Value>, StaffError> {
    Ok(crate::store::desks::list(conn)?
        .into_iter()
        .map(|d| {
            serde_json::json!({
                "code": d.code,
                "name": d.name,
                "fingerprint": d.public_key.as_ref().map(crate::desk::fingerprint),
            })
        })
        .collect())
}

/// The accounts page after an action that worked, with what it did.
async fn done(
    state: &AppState,
    current: &CurrentStaff,
    message: &str,
    link: Option<ShownLink>,
) -> Result<HttpResponse, StaffError> {
    let form = CreateForm::default();
    page(
        state,
        current,
        StatusCode::OK,
        &form,
        Some(message),
        None,
        link,
    )
    .await
}

fn shown(state: &AppState, username: &str, invitation: &accounts::Invitation) -> ShownLink {
    ShownLink {
        username: username.to_string(),
        url: format!("{}{}", state.settings.public_url, invitation.link.path()),
    }
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    page(
        &state,
        &current,
        StatusCode::OK,
        &CreateForm::default(),
        None,
        None,
        None,
    )
    .await
}

/// The message a user can act on, or the internal error.
fn user_message(e: AccountError) -> Result<String, StaffError> {
    match e {
        AccountError::BadUsername => Ok("用户名为 2 到 32 位字母、数字或 . _ -。".into()),
        AccountError::Store(crate::store::StoreError::Conflict(_)) => {
            Ok("这个用户名已经有人用了。".into())
        }
        AccountError::Store(crate::store::StoreError::NotFound) => Ok("没有这个调查组。".into()),
        e => Err(StaffError::Internal(e.to_string())),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let refuse = |message: String| {
        let state = state.clone();
        let current = &current;
        let form = &form;
        async move {
            page(
                &state,
                current,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                None,
                Some(&message),
                None,
            )
            .await
        }
    };
    let Some(role) = Role::parse(&form.role) else {
        return refuse("请选择角色。".into()).await;
    };
    let actor = current.actor();
    let username = form.username.trim().to_string();
    let desk_code = match form.desk.trim() {
        "" => crate::store::desks::CITY.to_string(),
        code => code.to_string(),
    };
    let name = username.clone();
    let invited = with_db(&state, move |conn| -> Result<_, StaffError> {
        let Some(desk) = crate::store::desks::by_code(conn, &desk_code)? else {
            return Ok(Err(AccountError::Store(crate::store::StoreError::NotFound)));
        };
        Ok(accounts::invite(conn, &actor, &name, role, desk.id))
    })
    .await?;
    let invitation = match invited {
        Ok(i) => i,
        Err(e) => return refuse(user_message(e)?).await,
    };
    tracing::info!(
        staff_id = current.0.staff_id,
        created = invitation.id,
        "account invited"
    );
    let message = format!(
        "已创建 {username}，尚未设置密码。请把下面的一次性链接交给本人，由本人打开并设置自己的密码。"
    );
    let link = shown(&state, &username, &invitation);
    done(&state, &current, &message, Some(link)).await
}

pub async fn disable(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<(i64, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let (id, action) = path.into_inner();
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(StaffError::NotFound),
    };
    if disabled && id == current.0.staff_id {
        return Err(StaffError::Forbidden);
    }
    let actor = current.actor();
    let (username, invitation) = with_db(&state, move |conn| -> Result<_, StaffError> {
        let username = staff::get(conn, id)?.username;
        let invitation = accounts::set_disabled(conn, &actor, id, disabled)
            .map_err(|e| StaffError::Internal(e.to_string()))?;
        Ok((username, invitation))
    })
    .await?;
    state.sessions.end_all_for(id);
    match invitation {
        None => {
            let message = format!("已停用 {username}：其密码、自己的密钥和授权已删除。");
            done(&state, &current, &message, None).await
        }
        Some(invitation) => {
            let message = format!("已重新启用 {username}。本人需用下面的新链接重新设置密码；调查人员还需同事重新授权。");
            let link = shown(&state, &username, &invitation);
            done(&state, &current, &message, Some(link)).await
        }
    }
}

/// Clears another account's second factor (a lost phone); they set up a new one after their
/// next login. Their password still guards the account meanwhile.
pub async fn reset_second_factor(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = current.actor();
    let username = with_db(&state, move |conn| -> Result<String, StaffError> {
        let account = staff::get(conn, id)?;
        if staff::delete_totp(conn, id)? {
            crate::store::audit::record(
                conn,
                &actor,
                "account.totp_reset",
                &format!("staff:{id}"),
            )?;
        }
        Ok(account.username)
    })
    .await?;
    let message = format!("已清除 {username} 的两步验证。其下次登录后可重新设置。");
    done(&state, &current, &message, None).await
}

/// An admin's reset (P5): a new enrolment link; the account's password, own key, grant and
/// sessions are destroyed, so whoever opens the link reads nothing until granted again.
pub async fn reset(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    if id == current.0.staff_id {
        return Err(StaffError::Forbidden);
    }
    let actor = current.actor();
    let (account, invitation) = with_db(&state, move |conn| -> Result<_, StaffError> {
        let account = staff::get(conn, id)?;
        let invitation =
            accounts::reset(conn, &actor, id).map_err(|e| StaffError::Internal(e.to_string()))?;
        Ok((account, invitation))
    })
    .await?;
    state.sessions.end_all_for(id);
    let message = if account.role == Role::Investigator {
        format!("已重置 {}：原密码、其自己的密钥和调查组授权都已删除。本人用下面的新链接设置密码后，还需一位同事核对指纹、重新授权，才能阅读反映。", account.username)
    } else {
        format!(
            "已重置 {}：原密码已删除，本人用下面的新链接设置新密码。",
            account.username
        )
    };
    let link = shown(&state, &account.username, &invitation);
    done(&state, &current, &message, Some(link)).await
}
