//! `/staff/settings` (admins): the release schedule, retention, public URL and whether staff
//! must use a second factor, written to the
//! configuration file after the same validation the service applies at start-up. They take
//! effect at the next start; `JIANFU_*` variables in the environment still win.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::configuration::{environment_overrides, Settings};
use crate::routes::render;
use crate::state::AppState;
use crate::store::audit;
use crate::store::staff::Role;

#[derive(Deserialize, Serialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    public_url: String,
    #[serde(default)]
    release_every: String,
    #[serde(default)]
    release_at: String,
    #[serde(default)]
    retention_days: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    require_totp: bool,
    #[serde(default, skip_serializing)]
    csrf: String,
}

fn read_table(state: &AppState) -> toml::Table {
    std::fs::read_to_string(&state.settings.file)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .unwrap_or_default()
}

/// What the file says, falling back to what the service runs with.
fn running(state: &AppState) -> SettingsForm {
    let running = &state.settings;
    SettingsForm {
        public_url: if running.public_url_set {
            running.public_url.clone()
        } else {
            String::new()
        },
        release_every: crate::configuration::format_duration(running.pool.release_every),
        release_at: running.pool.release_at.format("%H:%M").to_string(),
        retention_days: running.retention_days.to_string(),
        require_totp: running.require_totp,
        csrf: String::new(),
    }
}

fn page(
    state: &AppState,
    current: &CurrentStaff,
    status: StatusCode,
    form: &SettingsForm,
    error: Option<&str>,
    saved: bool,
) -> HttpResponse {
    let mut ctx = current.context();
    ctx.insert("form", form);
    ctx.insert("error", &error);
    ctx.insert("saved", &saved);
    ctx.insert("file", &state.settings.file.display().to_string());
    ctx.insert("overrides", &environment_overrides());
    render::page(&state.templates, status, "staff/settings.html", &ctx)
}

pub async fn get(
    state: web::Data<AppState>,
    current: CurrentStaff,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    let saved = query.contains_key("saved");
    let form = if saved {
        // Show what was written, not what still runs.
        let t = read_table(&state);
        let pool = t.get("pool").and_then(|p| p.as_table());
        let text = |v: Option<&toml::Value>| {
            v.map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
        };
        SettingsForm {
            public_url: text(t.get("public_url")),
            release_every: text(pool.and_then(|p| p.get("release_every"))),
            release_at: text(pool.and_then(|p| p.get("release_at"))),
            retention_days: text(t.get("retention_days")),
            require_totp: t
                .get("require_totp")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false),
            csrf: String::new(),
        }
    } else {
        running(&state)
    };
    Ok(page(&state, &current, StatusCode::OK, &form, None, saved))
}

pub async fn post(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let mut table = read_table(&state);
    let trimmed = |s: &str| s.trim().to_string();
    match trimmed(&form.public_url) {
        u if u.is_empty() => {
            table.remove("public_url");
        }
        u => {
            table.insert("public_url".into(), toml::Value::String(u));
        }
    }
    let Ok(days) = form.retention_days.trim().parse::<i64>() else {
        let message = "设置 `retention_days` 无效：请填写天数（整数）。";
        return Ok(page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            Some(message),
            false,
        ));
    };
    table.insert("retention_days".into(), toml::Value::Integer(days));
    table.insert(
        "require_totp".into(),
        toml::Value::Boolean(form.require_totp),
    );
    let pool = table
        .entry("pool")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(pool) = pool.as_table_mut() {
        pool.insert(
            "release_every".into(),
            toml::Value::String(trimmed(&form.release_every)),
        );
        pool.insert(
            "release_at".into(),
            toml::Value::String(trimmed(&form.release_at)),
        );
    }
    let text = toml::to_string(&table).map_err(|e| StaffError::Internal(e.to_string()))?;
    if let Err(e) = Settings::check_file_text(&state.settings.file, &text) {
        return Ok(page(
            &state,
            &current,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            Some(&e.to_string()),
            false,
        ));
    }
    let path = state.settings.file.clone();
    let actor = current.actor();
    with_db(&state, move |conn| {
        let tmp = path.with_extension("toml.new");
        std::fs::write(&tmp, text.as_bytes())
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| StaffError::Internal(format!("{}: {e}", path.display())))?;
        audit::record(conn, &actor, "settings.update", "")?;
        Ok(())
    })
    .await?;
    Ok(see_other("/staff/settings?saved"))
}
