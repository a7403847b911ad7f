//! `/staff/accounts` (admins): list, create, disable, re-enable and reset staff accounts.
//! Creating the first investigator creates the desk key and shows the recovery code once;
//! a later investigator waits for a grant from the desk (P5: admins never hold the key).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::accounts::{self, AccountError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::{self, Role};

#[derive(Deserialize, Serialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default, skip_serializing)]
    password: Zeroizing<String>,
    #[serde(default, skip_serializing)]
    password2: Zeroizing<String>,
    #[serde(default, skip_serializing)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    form: &CreateForm,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, StaffError> {
    let accounts = with_db(state, move |conn| -> Result<_, StaffError> {
        Ok(staff::list(conn)?)
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("accounts", &accounts);
    ctx.insert("form", form);
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    ctx.insert("my_id", &current.0.staff_id);
    Ok(render::page(
        &state.templates,
        status,
        "staff/accounts.html",
        &ctx,
    ))
}

/// The accounts page after an action that worked, with what it did.
async fn done(
    state: &AppState,
    current: &CurrentStaff,
    message: &str,
) -> Result<HttpResponse, StaffError> {
    let form = CreateForm::default();
    page(state, current, StatusCode::OK, &form, Some(message), None).await
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
    )
    .await
}

/// The message a user can act on, or the internal error.
fn user_message(e: AccountError) -> Result<String, StaffError> {
    match e {
        AccountError::BadUsername => Ok("用户名为 2 到 32 位字母、数字或 . _ -。".into()),
        AccountError::Password(_) => Ok("密码至少 10 位。".into()),
        AccountError::Store(crate::store::StoreError::Conflict(_)) => {
            Ok("这个用户名已经有人用了。".into())
        }
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
    let Some(role) = Role::parse(&form.role) else {
        return page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            None,
            Some("请选择角色。"),
        )
        .await;
    };
    if *form.password != *form.password2 {
        return page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            None,
            Some("两次输入的密码不一致。"),
        )
        .await;
    }
    let actor = current.actor();
    let username = form.username.trim().to_string();
    let password = form.password.clone();
    let added = with_db(&state, move |conn| -> Result<_, StaffError> {
        Ok(accounts::add(
            conn, &actor, &username, role, &password, None,
        ))
    })
    .await?;
    let added = match added {
        Ok(a) => a,
        Err(e) => {
            let message = user_message(e)?;
            return page(
                &state,
                &current,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                None,
                Some(&message),
            )
            .await;
        }
    };
    tracing::info!(
        staff_id = current.0.staff_id,
        created = added.id,
        "account created"
    );
    if let Some(code) = &added.recovery {
        let mut ctx = current.context();
        ctx.insert("recovery_code", code.expose());
        ctx.insert("investigator", form.username.trim());
        return Ok(render::page(
            &state.templates,
            StatusCode::OK,
            "staff/recovery.html",
            &ctx,
        ));
    }
    let message = if role == Role::Investigator && !added.granted {
        format!(
            "已创建调查人员 {}。请一位调查人员在“团队”页面为其授权后，才能阅读反映。",
            form.username.trim()
        )
    } else {
        format!("已创建 {}。", form.username.trim())
    };
    done(&state, &current, &message).await
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
    with_db(&state, move |conn| -> Result<(), StaffError> {
        accounts::set_disabled(conn, &actor, id, disabled)
            .map_err(|e| StaffError::Internal(e.to_string()))
    })
    .await?;
    if disabled {
        state.sessions.end_all_for(id);
    }
    Ok(see_other("/staff/accounts"))
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
    done(&state, &current, &message).await
}

pub async fn reset_password(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = current.actor();
    let password = form.password.clone();
    let reset = with_db(&state, move |conn| -> Result<_, StaffError> {
        Ok(accounts::reset_password(conn, &actor, id, &password))
    })
    .await?;
    let message = match reset {
        Ok(account) => {
            state.sessions.end_all_for(id);
            if account.role == Role::Investigator {
                format!("已重置 {} 的密码。其原有的调查组密钥授权已失效：请另一位调查人员在“团队”页面重新授权（或用恢复码）。", account.username)
            } else {
                format!("已重置 {} 的密码。", account.username)
            }
        }
        Err(AccountError::Store(crate::store::StoreError::NotFound)) => {
            return Err(StaffError::NotFound)
        }
        Err(e) => {
            let message = user_message(e)?;
            return page(
                &state,
                &current,
                StatusCode::UNPROCESSABLE_ENTITY,
                &CreateForm::default(),
                None,
                Some(&message),
            )
            .await;
        }
    };
    done(&state, &current, &message).await
}
