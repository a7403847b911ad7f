//! `/staff/settings` (admins): the release schedule, retention, public URL and whether staff
//! must use a second factor, written to the configuration file after the same validation the
//! service applies at start-up. They take effect at the next start; `JIANFU_*` variables in the
//! environment still win. P3: the console refuses a release period under an hour, and every
//! change is audited as old → new (a schedule change as `schedule.change`, which the desk
//! shows).

use std::path::Path;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::home::see_other;
use super::{with_db, CurrentStaff, StaffError};
use crate::configuration::{
    environment_overrides, parse_duration, Settings, DEFAULT_HOLD_MAX, DEFAULT_RELEASE_MIN,
    SHORTEST_CONSOLE_PERIOD,
};
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
    release_min: String,
    #[serde(default)]
    hold_max: String,
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
        release_min: running.pool.release_min.to_string(),
        hold_max: running.pool.hold_max.to_string(),
        retention_days: running.retention_days.to_string(),
        require_totp: running.require_totp,
        csrf: String::new(),
    }
}

/// What the configuration file says, empty where it says nothing.
fn written(t: &toml::Table) -> SettingsForm {
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
        release_min: text(pool.and_then(|p| p.get("release_min"))),
        hold_max: text(pool.and_then(|p| p.get("hold_max"))),
        retention_days: text(t.get("retention_days")),
        require_totp: t
            .get("require_totp")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false),
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
    // After a save, show what was written, not what still runs.
    let form = if saved {
        written(&read_table(&state))
    } else {
        running(&state)
    };
    Ok(page(&state, &current, StatusCode::OK, &form, None, saved))
}

/// The settings the form sets, as the audit log names them, with their values as text.
fn values(form: &SettingsForm) -> [(&'static str, String); 7] {
    [
        ("public_url", form.public_url.trim().to_string()),
        ("pool.release_every", form.release_every.trim().to_string()),
        ("pool.release_at", form.release_at.trim().to_string()),
        (
            "pool.release_min",
            or_default(&form.release_min, DEFAULT_RELEASE_MIN),
        ),
        (
            "pool.hold_max",
            or_default(&form.hold_max, DEFAULT_HOLD_MAX),
        ),
        ("retention_days", form.retention_days.trim().to_string()),
        ("require_totp", form.require_totp.to_string()),
    ]
}

/// An empty field means the default.
fn or_default(value: &str, default: u32) -> String {
    match value.trim() {
        "" => default.to_string(),
        v => v.to_string(),
    }
}

/// Why the form cannot be saved, in words an admin can act on.
fn refusal(form: &SettingsForm) -> Option<String> {
    let whole = |v: &str| v.trim().parse::<i64>().ok().filter(|n| *n >= 1);
    if whole(&form.retention_days).is_none() {
        return Some("设置 `retention_days` 无效：请填写天数（正整数）。".into());
    }
    for (key, value) in [
        ("pool.release_min", &form.release_min),
        ("pool.hold_max", &form.hold_max),
    ] {
        // Empty: the default (3 and 7).
        if !value.trim().is_empty() && whole(value).is_none() {
            return Some(format!("设置 `{key}` 无效：请填写正整数，或留空用默认值。"));
        }
    }
    // P3: an admin cannot make reports reach the desk close to when they were filed.
    match parse_duration(&form.release_every) {
        Ok(period) if period < SHORTEST_CONSOLE_PERIOD => {
            Some("交付周期不能短于 1 小时（1h）：周期越短，反映越容易和提交时间对应起来。".into())
        }
        Ok(_) => None,
        Err(_) => Some(
            "设置 `pool.release_every` 无效：请填写 1h 到 366d 之间的周期，例如 24h、12h 或 7d。"
                .into(),
        ),
    }
}

impl SettingsForm {
    /// The configuration file this form writes over `table` (what the file says now), checked
    /// as the service reads it at start-up; `Invalid` says why it cannot be saved, in words an
    /// admin can act on.
    pub fn file_text(&self, mut table: toml::Table, file: &Path) -> Result<String, StaffError> {
        if let Some(message) = refusal(self) {
            return Err(StaffError::Invalid(message));
        }
        let number = |v: &str| toml::Value::Integer(v.trim().parse::<i64>().unwrap_or(1));
        match self.public_url.trim() {
            "" => {
                table.remove("public_url");
            }
            u => {
                table.insert("public_url".into(), toml::Value::String(u.to_string()));
            }
        }
        table.insert("retention_days".into(), number(&self.retention_days));
        table.insert(
            "require_totp".into(),
            toml::Value::Boolean(self.require_totp),
        );
        let pool = table
            .entry("pool")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(pool) = pool.as_table_mut() {
            let text = |v: &str| toml::Value::String(v.trim().to_string());
            pool.insert("release_every".into(), text(&self.release_every));
            pool.insert("release_at".into(), text(&self.release_at));
            for (key, value) in [
                ("release_min", &self.release_min),
                ("hold_max", &self.hold_max),
            ] {
                if value.trim().is_empty() {
                    pool.remove(key);
                } else {
                    pool.insert(key.into(), number(value));
                }
            }
        }
        let text = toml::to_string(&table).map_err(|e| StaffError::Internal(e.to_string()))?;
        Settings::check_file_text(file, &text).map_err(|e| StaffError::Invalid(e.to_string()))?;
        Ok(text)
    }
}

pub async fn post(
    state: web::Data<AppState>,
    current: CurrentStaff,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, StaffError> {
    current.require(Role::Admin)?;
    current.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let table = read_table(&state);
    let before = values(&written_or_running(&state, &table));
    let text = match form.file_text(table, &state.settings.file) {
        Ok(text) => text,
        Err(StaffError::Invalid(message)) => {
            return Ok(page(
                &state,
                &current,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                Some(&message),
                false,
            ))
        }
        Err(e) => return Err(e),
    };
    // P3, P8: every change on the record, old → new.
    let changes: Vec<(&'static str, String)> = before
        .into_iter()
        .zip(values(&form))
        .filter(|((_, old), (_, new))| old != new)
        .map(|((key, old), (_, new))| (key, format!("{key}: {old} → {new}")))
        .collect();
    let path = state.settings.file.clone();
    let actor = current.actor();
    with_db(&state, move |conn| {
        let tmp = path.with_extension("toml.new");
        std::fs::write(&tmp, text.as_bytes())
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| StaffError::Internal(format!("{}: {e}", path.display())))?;
        for (key, change) in &changes {
            let action = if key.starts_with("pool.") {
                "schedule.change"
            } else {
                "settings.change"
            };
            audit::record(conn, &actor, action, change)?;
        }
        Ok(())
    })
    .await?;
    Ok(see_other("/staff/settings?saved"))
}

/// What the file says where it says it, else what the service runs with: the "old" of an
/// audited change.
fn written_or_running(state: &AppState, table: &toml::Table) -> SettingsForm {
    let written = written(table);
    let running = running(state);
    let or = |w: String, r: String| if w.is_empty() { r } else { w };
    SettingsForm {
        public_url: or(written.public_url, running.public_url),
        release_every: or(written.release_every, running.release_every),
        release_at: or(written.release_at, running.release_at),
        release_min: or(written.release_min, running.release_min),
        hold_max: or(written.hold_max, running.hold_max),
        retention_days: or(written.retention_days, running.retention_days),
        require_totp: if table.contains_key("require_totp") {
            written.require_totp
        } else {
            running.require_totp
        },
        csrf: String::new(),
    }
}
