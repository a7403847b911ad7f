//! `/staff/batches` (admins): card batches. Issuing answers with the codes as a download,
//! the only time they exist in the clear; the database keeps their keyed hashes (P1). No
//! batch shows how many of its cards were used (P3).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::confirm::{self, Confirm};
use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::card_sheet::{self, CardFormat};
use crate::routes::render;
use crate::state::AppState;
use crate::store::staff::Role;
use crate::store::{audit, cards, StoreError};

/// Largest batch issued from the console (the command line goes further).
const MAX_CONSOLE_BATCH: u32 = 100_000;

#[derive(Deserialize, Serialize, Default)]
pub struct IssueForm {
    #[serde(default)]
    count: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires: String,
    #[serde(default, skip_serializing)]
    format: CardFormat,
    #[serde(default, skip_serializing)]
    csrf: String,
}

async fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    form: &IssueForm,
    error: Option<&str>,
    saved: Option<String>,
) -> Result<HttpResponse, StaffError> {
    let batches = with_db(state, move |conn| -> Result<_, StaffError> {
        Ok(cards::list_batches(conn)?)
    })
    .await?;
    let mut ctx = current.context();
    ctx.insert("batches", &batches);
    ctx.insert("form", form);
    ctx.insert("error", &error);
    ctx.insert("saved", &saved);
    ctx.insert("entry_url", &state.settings.public_url);
    ctx.insert("max", &MAX_CONSOLE_BATCH);
    Ok(render::page(
        &state.templates,
        status,
        "staff/batches.html",
        &ctx,
    ))
}

pub async fn list(
    state: web::Data<AppState>,
    current: CurrentStaff,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let saved = super::saved::notice(&query);
    page(
        &state,
        &current,
        StatusCode::OK,
        &IssueForm::default(),
        None,
        saved,
    )
    .await
}

fn parse(form: &IssueForm) -> Result<(u32, String, Option<NaiveDate>), &'static str> {
    let count: u32 = form
        .count
        .trim()
        .parse()
        .map_err(|_| "张数请填 1 到 100000 之间的整数。")?;
    if count == 0 || count > MAX_CONSOLE_BATCH {
        return Err("张数请填 1 到 100000 之间的整数。");
    }
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > 60 {
        return Err("请填写批次名称（最多 60 字），例如“城关镇 2026 年第一批”。");
    }
    let expires = match form.expires.trim() {
        "" => None,
        e => Some(
            NaiveDate::parse_from_str(e, "%Y-%m-%d")
                .map_err(|_| "有效期请按 2027-06-30 的格式填写。")?,
        ),
    };
    if expires.is_some_and(|d| d < crate::store::today()) {
        return Err("有效期不能早于今天。");
    }
    Ok((count, label.to_string(), expires))
}

pub async fn issue(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<IssueForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let (count, label, expires) = match parse(&form) {
        Ok(v) => v,
        Err(message) => {
            return page(
                &state,
                &current,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                Some(message),
                None,
            )
            .await
        }
    };
    let hasher = state.card_hasher.clone();
    let actor = current.actor();
    let entry_url = state.settings.public_url.clone();
    let format = form.format;
    let (batch_id, text) = with_db(&state, move |conn| -> Result<_, StaffError> {
        let (batch_id, codes) = cards::issue_batch(conn, &hasher, &label, expires, count, |_| {})?;
        audit::record(
            conn,
            &actor,
            "batch.issue",
            &format!("batch:{batch_id} count:{count}"),
        )?;
        let batch = card_sheet::Batch {
            id: batch_id,
            label: &label,
            expires,
            entry_url: &entry_url,
        };
        let text = card_sheet::render(format, &batch, &codes)
            .map_err(|e| StaffError::Internal(e.to_string()))?;
        Ok((batch_id, text))
    })
    .await?;
    tracing::info!(
        staff_id = current.0.staff_id,
        batch_id,
        count,
        "batch issued"
    );
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"jianfu-batch-{batch_id}.{}\"",
                format.extension()
            ),
        ))
        .body(text))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Revokes a batch's unused cards: the first POST only asks (issue 13: a revoked card can
/// never file again, and a printed batch may already be on office walls); the confirmed one
/// revokes.
pub async fn revoke(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    if !confirm::confirmed(form.confirm.as_deref()) {
        let batch = with_db(&state, move |conn| -> Result<_, StaffError> {
            cards::list_batches(conn)?
                .into_iter()
                .find(|b| b.id == id)
                .ok_or(StaffError::NotFound)
        })
        .await?;
        let confirm = Confirm {
            title: format!("作废批次 {id} 中未用的凭证"),
            question: format!(
                "确定要作废批次 {id}“{}”（{} 张）中所有还没用过的凭证吗？",
                batch.label, batch.issued
            ),
            consequence: "作废后这些凭证再也不能提交反映，无法恢复；要继续发放只能另发一批。",
            action: format!("/staff/batches/{id}/revoke"),
            fields: Vec::new(),
            button: "确认作废",
            back: "/staff/batches".to_string(),
        };
        return Ok(confirm::page(&state, &current, &confirm));
    }
    let actor = current.actor();
    with_db(&state, move |conn| -> Result<(), StaffError> {
        match cards::revoke_batch(conn, id) {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        audit::record(conn, &actor, "batch.revoke", &format!("batch:{id}"))?;
        Ok(())
    })
    .await?;
    Ok(see_other("/staff/batches?saved=revoked"))
}
