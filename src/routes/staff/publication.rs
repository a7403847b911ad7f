//! `POST /staff/cases/{id}/publish` (investigators): a case on the public board, with a text
//! written for the public (P6: never the reporters' words, never a report id), or withdrawn
//! from it after a confirmation page. A refused publication comes back with the text as
//! typed (issue 13).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::cases::{case_page, desk_case, Refusal};
use super::confirm::{self, Confirm};
use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::state::AppState;
use crate::store::{audit, cases, StoreError};

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    public_text: String,
    /// The outcome chosen beside the text, offered when the saved one cannot be published.
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    withdraw: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
}

/// The longest public text (characters).
const TEXT_MAX: usize = 500;

pub async fn publish(
    state: web::Data<AppState>,
    current: CurrentStaff,
    path: web::Path<i64>,
    form: web::Form<PublishForm>,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    current.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let form = form.into_inner();
    if form.withdraw.is_some() {
        return withdraw(
            &state,
            &current,
            id,
            confirm::confirmed(form.confirm.as_deref()),
        )
        .await;
    }
    let text = form.public_text.trim().to_string();
    let refuse = |message| Refusal {
        text: text.clone(),
        message,
    };
    if text.is_empty() || text.chars().count() > TEXT_MAX {
        let refusal = refuse("请为公众写一段公示文字（最多 500 字）。");
        return refused(&state, &current, id, refusal).await;
    }
    let outcome = form.outcome.filter(|o| cases::publishable(o));
    let actor = current.actor();
    let public = text.clone();
    let published = with_db(&state, move |conn| -> Result<bool, StaffError> {
        let tx = conn.transaction().map_err(StoreError::from)?;
        let case = desk_case(&tx, &key, desk_id, id)?;
        let outcome = match outcome {
            Some(chosen) if chosen != case.stored.outcome => {
                cases::set_outcome(&tx, id, &chosen)?;
                let change = format!("case:{id} outcome:{chosen}");
                audit::record(&tx, &actor, "case.update", &change)?;
                chosen
            }
            _ => case.stored.outcome.clone(),
        };
        if !cases::publishable(&outcome) {
            return Ok(false);
        }
        // P6: the department and month become public with the text written for the public.
        let publication = cases::Publication {
            department: &case.text.department,
            month: &case.text.month,
            text: &public,
        };
        cases::publish(&tx, id, Some(publication))?;
        audit::record(&tx, &actor, "case.publish", &format!("case:{id}"))?;
        tx.commit().map_err(StoreError::from)?;
        Ok(true)
    })
    .await?;
    if !published {
        let refusal =
            refuse("只有结果为“叫停”或“调整”的事项才能公示。公示文字还在下面：选好结果后再公示。");
        return refused(&state, &current, id, refusal).await;
    }
    Ok(see_other(&format!("/staff/cases/{id}?saved=published")))
}

async fn refused(
    state: &AppState,
    current: &CurrentStaff,
    id: i64,
    refusal: Refusal,
) -> Result<HttpResponse, StaffError> {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    case_page(state, current, status, id, Some(refusal), &HashMap::new()).await
}

/// Takes a case off the public board: the first POST only asks (the public may have seen it,
/// and a withdrawal is seen too); the confirmed one withdraws.
async fn withdraw(
    state: &AppState,
    current: &CurrentStaff,
    id: i64,
    confirmed: bool,
) -> Result<HttpResponse, StaffError> {
    let key = current.desk()?;
    let desk_id = current.desk_id()?;
    if !confirmed {
        let case = with_db(state, move |conn| desk_case(conn, &key, desk_id, id)).await?;
        let confirm = Confirm {
            title: format!("撤回事项 #{id} 的公示"),
            question: format!("确定要把事项 #{id}“{}”从公示页上撤回吗？", case.text.title),
            consequence: "撤回后公示页上立即不再显示这一条；已经看到的人会发现它不见了。",
            action: format!("/staff/cases/{id}/publish"),
            fields: vec![("withdraw", "1")],
            button: "确认撤回公示",
            back: format!("/staff/cases/{id}"),
        };
        return Ok(confirm::page(state, current, &confirm));
    }
    let actor = current.actor();
    with_db(state, move |conn| -> Result<(), StaffError> {
        desk_case(conn, &key, desk_id, id)?;
        cases::publish(conn, id, None)?;
        audit::record(conn, &actor, "case.withdraw", &format!("case:{id}"))?;
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/staff/cases/{id}?saved=withdrawn")))
}
