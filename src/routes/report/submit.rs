//! `POST /report`: parse, warn (P7), check the card (P1, P9), seal to the desk key (P5) on
//! this worker, then hand the sealed report to the writer, which spends the card and stores
//! the report in one durable transaction (P1) — one hand-off per request (issue #12). Every
//! answer other than the 303 re-renders the form with every value the reporter entered
//! (SPEC §3.2).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::form::{self, Feedback};
use crate::card_check::Card;
use crate::crypto;
use crate::domain::identifying;
use crate::domain::{FieldErrors, RawReport};
use crate::routes::render;
use crate::state::AppState;
use crate::store::writer::{Filed, SealedCopy};

/// The largest form accepted: a 5,000-character account percent-encoded, plus the rest.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

const CARD_REFUSED: &str = "这张减负凭证不能使用：可能已经用过、已过期、已作废，或编码有误。请核对编码；如果确认无误，请换一张凭证。";
const TOO_MANY: &str = "尝试次数太多，请过十分钟再提交。您填写的内容都还在下面。";
const CANNOT_STORE: &str =
    "系统暂时无法保存，请稍后再点一次“提交”。您填写的内容都还在下面，没有保存。";
const NOT_READY: &str =
    "本平台尚未启用（调查组还没有设置密钥），暂时不能提交。您填写的内容都还在下面。";

pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
            return render::message(
                &state.templates,
                StatusCode::PAYLOAD_TOO_LARGE,
                "内容太长",
                "提交的内容超过了上限（正文最多 5000 字）。请返回上一页，删减后再提交。",
            )
        }
        Err(_) => {
            return render::message(
                &state.templates,
                StatusCode::BAD_REQUEST,
                "提交没有完成",
                "提交的数据不完整，请返回上一页再试一次。",
            )
        }
    };
    // P4: the address is used only here, as a keyed hash of its network, in memory.
    let address = req.peer_addr().map(|a| state.address_hasher.hash(a.ip()));
    let raw = RawReport::from_form(&body);
    let reply = |status, feedback| form::render(&state, &req, status, &raw, feedback);
    let notice = |status, text| {
        reply(
            status,
            Feedback {
                notice: Some(text),
                ..Feedback::default()
            },
        )
    };

    let (card, report) = match raw.parse(crate::store::today(), &state.choices()) {
        Ok(parsed) => parsed,
        Err(errors) => {
            return reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                Feedback {
                    errors,
                    ..Feedback::default()
                },
            );
        }
    };
    if !raw.confirm {
        let mut findings = identifying::scan("department", &report.department);
        findings.extend(identifying::scan("township", &report.township));
        findings.extend(identifying::scan("body", &report.body));
        if !findings.is_empty() {
            let mut errors = FieldErrors::default();
            errors.add(
                "confirm",
                "内容里可能有能认出您的信息，请修改后再提交，或勾选确认。",
            );
            return reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                Feedback {
                    errors,
                    findings,
                    notice: None,
                },
            );
        }
    }
    // P9: only a refused card counts towards the throttle, and the throttle is asked only
    // about refused cards, so nothing anyone sent before can stop a valid card.
    let refused = || {
        let blocked = address.is_some_and(|a| {
            let blocked = state.report_throttle.is_blocked(&a);
            state.report_throttle.fail(a);
            blocked
        });
        if blocked {
            notice(StatusCode::TOO_MANY_REQUESTS, TOO_MANY)
        } else {
            notice(StatusCode::FORBIDDEN, CARD_REFUSED)
        }
    };
    let (batch, card_hash) = match state.card_check.check(&state.db, &card) {
        Ok(Card::Open { batch, hash }) => (batch, hash),
        Ok(Card::Refused) => return refused(),
        Err(e) => {
            // The cause comes from SQLite, never from the request.
            tracing::error!(error = %e, "card check failed");
            return notice(StatusCode::SERVICE_UNAVAILABLE, CANNOT_STORE);
        }
    };
    // Sealed here, on the worker that parsed the form: a hop to another thread would cost as
    // much as the seal itself (issue #12).
    let Ok(json) = serde_json::to_vec(&report).map(Zeroizing::new) else {
        return notice(StatusCode::SERVICE_UNAVAILABLE, CANNOT_STORE);
    };
    // P11: the district desk named (unless the reporter kept it out) and the city desk.
    let desks = report.recipients();
    // A desk key rotated since this process last read them: seal again, once.
    for attempt in 0..2 {
        let copies = match seal_copies(&state, &desks, &json) {
            Ok(Some(copies)) => copies,
            Ok(None) => return notice(StatusCode::SERVICE_UNAVAILABLE, NOT_READY),
            Err(_) => return notice(StatusCode::SERVICE_UNAVAILABLE, CANNOT_STORE),
        };
        match state.writer.file(card_hash, batch, copies).await {
            Ok(Filed::Stored) => {
                return HttpResponse::SeeOther()
                    .insert_header(("Location", "/thanks"))
                    .finish()
            }
            // Spent or revoked since the check: another submission of the same card won.
            Ok(Filed::CardRefused) => return refused(),
            Ok(Filed::KeyChanged) if attempt == 0 => state.desk_keys_changed(),
            Ok(Filed::KeyChanged) | Err(_) => break,
        }
    }
    notice(StatusCode::SERVICE_UNAVAILABLE, CANNOT_STORE)
}

/// The report sealed to each of `desks`, by code (P5, P11), each copy under its own
/// ephemeral key; `None` if one has no key yet.
fn seal_copies(
    state: &AppState,
    desks: &[&str],
    json: &[u8],
) -> Result<Option<Vec<SealedCopy>>, crate::store::StoreError> {
    let mut keys = state.desk_keys()?;
    if desks.iter().any(|d| !keys.ids.contains_key(*d)) {
        // Perhaps created since (by an enrolment in another process).
        state.desk_keys_changed();
        keys = state.desk_keys()?;
    }
    Ok(desks
        .iter()
        .map(|&code| {
            let desk_id = *keys.ids.get(code)?;
            let key = keys.by_id.get(&desk_id)?;
            Some(SealedCopy {
                desk_id,
                sealed_to: *key,
                sealed: crypto::seal(key, crypto::Purpose::Report, json, &mut OsRng),
            })
        })
        .collect())
}
