//! `/staff/team` (investigators): the desk's investigators, each one's own key fingerprint shown
//! to its owner only, granting the desk key to a colleague by sealing it to their own public
//! key after checking their fingerprint in person — no password changes hands (P5) — and
//! rotating the desk key.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::authentication::password;
use crate::desk::{self, DeskError};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::{self, Role};
use crate::store::{audit, desks};

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    csrf: String,
    /// The first group of the recipient's own key fingerprint, as they read it out.
    #[serde(default)]
    fingerprint: String,
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, StaffError> {
    let desk_id = current.desk_id()?;
    let me = current.0.staff_id;
    let (team, desk, mine, waiting) = with_db(state, move |conn| -> Result<_, StaffError> {
        let team = staff::desk_members(conn, desk_id)?;
        let desk = desks::get(conn, desk_id)?;
        let townships = desks::townships_of(conn, desk_id)?;
        let waiting =
            desk.public_key.is_some() && !crate::desk::approval::is_routable(&desk, &townships);
        Ok((team, desk, desk::own_fingerprint(conn, me)?, waiting))
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("team", &team);
    ctx.insert("desk_name", &desk.name);
    ctx.insert(
        "desk_fingerprint",
        &desk.public_key.as_ref().map(desk::fingerprint),
    );
    ctx.insert("my_fingerprint", &mine);
    // P5, P11: a district desk the city desk has not approved (as it is) receives nothing.
    ctx.insert("desk_waiting", &waiting);
    ctx.insert("my_id", &me);
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    Ok(render::page(
        &state.templates,
        status,
        "staff/team.html",
        &ctx,
    ))
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Investigator)?;
    page(&state, &current, StatusCode::OK, None, None).await
}

pub async fn grant(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = current.actor();
    let typed = form.fingerprint.clone();
    let granted = with_db(&state, move |conn| -> Result<_, StaffError> {
        // P11: an account that is not one of this desk's investigators answers as a missing
        // one does, so that no desk can tell which staff ids exist at other desks (or as
        // admins); a disabled colleague is one the team page listed before.
        let account = staff::get(conn, id)?;
        if account.role != Role::Investigator || account.desk_id != Some(desk_id) {
            return Err(StaffError::NotFound);
        }
        if account.disabled {
            return Err(StaffError::Forbidden);
        }
        desk::is_current(conn, desk_id, &key)?;
        match desk::grant_checked(conn, &key, id, &typed) {
            Ok(()) => {
                audit::record(conn, &actor, "desk.grant", &format!("staff:{id}"))?;
                Ok(Ok(account.username))
            }
            Err(DeskError::FingerprintMismatch) => {
                audit::record(conn, &actor, "desk.grant_refused", &format!("staff:{id}"))?;
                Ok(Err(account.username))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    match granted {
        Ok(username) => {
            tracing::info!(
                staff_id = current.0.staff_id,
                granted = id,
                "desk key granted"
            );
            let message = format!("已为 {username} 授权。对方重新登录后即可阅读反映。");
            page(&state, &current, StatusCode::OK, Some(&message), None).await
        }
        Err(username) => {
            let error = format!("指纹不一致，没有授权。请当面请 {username} 在自己的“团队”页面读出指纹的第一组（4 个字符）；如果仍不一致，这个账号可能不是本人设置的，请告诉管理员重置它。");
            page(
                &state,
                &current,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&error),
            )
            .await
        }
    }
}

/// Rotates the desk key (P5): after an investigator leaves, or on suspicion. The password is
/// asked again; every session of the desk ends (each held the old key); the new recovery code
/// is shown once, to the one who rotated.
pub async fn rotate(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<RotateForm>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    current.check_csrf(&form.csrf)?;
    let me = current.0.staff_id;
    let actor = current.actor();
    let typed = form.password.clone();
    let db = state.db.clone();
    // P9: the password is checked behind the gate, counted like a login's guess.
    let rotated = state
        .password_gate
        .check(&current.0.username, move |guess| -> Result<_, StaffError> {
            let conn = &mut db.connect()?;
            let account = staff::get(conn, me)?;
            if !password::verify(&typed, account.password_hash.as_deref()) {
                audit::record(conn, &actor, "desk.rotate.refused", "wrong password")?;
                return Ok(None);
            }
            guess.right();
            let tx = conn.transaction().map_err(crate::store::StoreError::from)?;
            let (code, done) = desk::rotate(&tx, desk_id, &key, |_, _| {})?;
            drop(key);
            audit::record(
                &tx,
                &actor,
                "desk.rotate",
                &format!(
                    "desk:{desk_id} reports:{} notes:{} cases:{} grants:{}",
                    done.reports, done.notes, done.cases, done.grants
                ),
            )?;
            tx.commit().map_err(crate::store::StoreError::from)?;
            let fingerprint = desk::public_key(conn, desk_id)?
                .as_ref()
                .map(desk::fingerprint);
            Ok(Some((code, fingerprint)))
        })
        .await;
    let rotated = match rotated {
        Ok(rotated) => rotated?,
        Err(refusal) => {
            let (status, message) = super::gate_refusal(refusal)?;
            return page(&state, &current, status, None, Some(message)).await;
        }
    };
    let Some((code, fingerprint)) = rotated else {
        return page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some("密码不正确，没有更换密钥。"),
        )
        .await;
    };
    state.desk_keys_changed();
    super::desk_changed(&state);
    state.sessions.end_all_of_desk(desk_id);
    tracing::info!(staff_id = me, desk_id, "desk key rotated");
    let mut ctx = tera::Context::new();
    ctx.insert("recovery_code", code.expose());
    ctx.insert("fingerprint", &fingerprint);
    Ok(render::page(
        &state.templates,
        StatusCode::OK,
        "staff/rotated.html",
        &ctx,
    ))
}

/// A bookmark of the rotation form's target goes back to the team page.
pub async fn rotate_get() -> HttpResponse {
    see_other("/staff/team")
}
