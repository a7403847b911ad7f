//! Typed settings: `DIR/jianfu.toml` (or `--config FILE`), then `JIANFU_<KEY>` environment
//! overrides with `.` written as `_`, validated once at start-up (SPEC §3.1).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use serde::Deserialize;

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("setting `{key}` is not valid: {message}")]
    Invalid { key: &'static str, message: String },
}

/// The settings the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file these settings come from (or would, if it existed).
    pub file: PathBuf,
    /// The entry URL printed on posters and cards, without a trailing slash.
    pub public_url: String,
    /// Whether `public_url` was configured; if not, it follows the address actually bound.
    pub public_url_set: bool,
    pub bind: SocketAddr,
    pub pool: PoolSettings,
    pub retention_days: u32,
    /// A development run may use the example key files from `keys-example/`.
    pub dev: bool,
    /// Failed card attempts from one address (a keyed hash of its /24 or /64, in memory only)
    /// within ten minutes before `/report` answers 429.
    pub report_attempts: u32,
    /// Commit many submissions per transaction (default). Off: one submission per commit (a
    /// flush may still cover several commits) — only for measuring what group commit buys.
    pub group_commit: bool,
    /// Submissions that may wait for the writer before `/report` answers 503 (values kept).
    pub writer_queue: usize,
    /// Staff must set up a second factor (TOTP) before anything else after signing in.
    pub require_totp: bool,
}

/// When the pending pool is released (SPEC P3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    pub release_every: Duration,
    pub release_at: NaiveTime,
    /// A scheduled release happens only with at least this many reports pending…
    pub release_min: u32,
    /// …or once the oldest has waited this many scheduled releases.
    pub hold_max: u32,
}

/// A release needs at least this many reports pending, by default (P3).
pub const DEFAULT_RELEASE_MIN: u32 = 3;
/// …or the oldest to have waited this many scheduled releases.
pub const DEFAULT_HOLD_MAX: u32 = 7;

/// The shortest release period the console accepts (P3); the environment and the
/// configuration file may set any, and the desk shows a warning under it.
pub const SHORTEST_CONSOLE_PERIOD: Duration = Duration::from_secs(3600);

impl PoolSettings {
    /// The schedule as one line, for the audit log and the desk.
    pub fn describe(&self) -> String {
        format!(
            "每 {} 交付一次（{} 起算），至少 {} 份才交付，最多等 {} 个周期",
            format_duration(self.release_every),
            self.release_at.format("%H:%M"),
            self.release_min,
            self.hold_max
        )
    }

    /// Whether the period is short enough to tie a report to when it was filed.
    pub fn period_too_short(&self) -> bool {
        self.release_every < SHORTEST_CONSOLE_PERIOD
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    public_url: Option<String>,
    bind: Option<String>,
    retention_days: Option<u32>,
    dev: Option<bool>,
    report_attempts: Option<u32>,
    group_commit: Option<bool>,
    writer_queue: Option<u32>,
    require_totp: Option<bool>,
    #[serde(default)]
    pool: FilePool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePool {
    release_every: Option<String>,
    release_at: Option<String>,
    release_min: Option<u32>,
    hold_max: Option<u32>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    /// Loads `config` if given, else `data_dir/jianfu.toml` if it exists, then applies the
    /// environment, then `bind_override` (the `--bind` flag).
    pub fn load(
        data_dir: &Path,
        config: Option<&Path>,
        bind_override: Option<&str>,
    ) -> Result<Settings, ConfigError> {
        Self::load_with_env(data_dir, config, bind_override, |k| std::env::var(k).ok())
    }

    fn load_with_env(
        data_dir: &Path,
        config: Option<&Path>,
        bind_override: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file_path = config
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join("jianfu.toml"));
        let file = if config.is_some() || file_path.exists() {
            let text = std::fs::read_to_string(&file_path).map_err(|source| ConfigError::Read {
                path: file_path.clone(),
                source,
            })?;
            parse_file(&file_path, &text)?
        } else {
            FileSettings::default()
        };
        Self::from_parts(file, file_path, bind_override, env)
    }

    /// Checks the text of a configuration file as `load` would read it (no environment).
    pub fn check_file_text(path: &Path, text: &str) -> Result<Settings, ConfigError> {
        Self::from_parts(parse_file(path, text)?, path.to_path_buf(), None, |_| None)
    }

    fn from_parts(
        file: FileSettings,
        file_path: PathBuf,
        bind_override: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let bind_text = bind_override
            .map(str::to_string)
            .or_else(|| env("JIANFU_BIND"))
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind: SocketAddr = bind_text.parse().map_err(|_| ConfigError::Invalid {
            key: "bind",
            message: format!("`{bind_text}` is not an address like 127.0.0.1:8080"),
        })?;

        let configured_url = env("JIANFU_PUBLIC_URL").or(file.public_url);
        let public_url_set = configured_url.is_some();
        let public_url = configured_url.unwrap_or_else(|| format!("http://{bind}"));
        let public_url = parse_public_url(&public_url)?;

        let every = env("JIANFU_POOL_RELEASE_EVERY")
            .or(file.pool.release_every)
            .unwrap_or_else(|| "24h".into());
        let release_every = parse_duration(&every).map_err(|message| ConfigError::Invalid {
            key: "pool.release_every",
            message,
        })?;
        let at = env("JIANFU_POOL_RELEASE_AT")
            .or(file.pool.release_at)
            .unwrap_or_else(|| "09:00".into());
        let release_at =
            NaiveTime::parse_from_str(&at, "%H:%M").map_err(|_| ConfigError::Invalid {
                key: "pool.release_at",
                message: format!("`{at}` is not a time of day like 09:00"),
            })?;

        let release_min = parse_env_number(&env, "JIANFU_POOL_RELEASE_MIN", "pool.release_min")?
            .or(file.pool.release_min)
            .unwrap_or(DEFAULT_RELEASE_MIN);
        let hold_max = parse_env_number(&env, "JIANFU_POOL_HOLD_MAX", "pool.hold_max")?
            .or(file.pool.hold_max)
            .unwrap_or(DEFAULT_HOLD_MAX);
        for (key, value) in [
            ("pool.release_min", release_min),
            ("pool.hold_max", hold_max),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be at least 1".into(),
                });
            }
        }

        let retention_days = parse_env_number(&env, "JIANFU_RETENTION_DAYS", "retention_days")?
            .or(file.retention_days)
            .unwrap_or(365);
        if retention_days == 0 {
            return Err(ConfigError::Invalid {
                key: "retention_days",
                message: "must be at least 1".into(),
            });
        }
        let report_attempts = parse_env_number(&env, "JIANFU_REPORT_ATTEMPTS", "report_attempts")?
            .or(file.report_attempts)
            .unwrap_or(20);
        let flag = |var: &str, from_file: Option<bool>, default: bool| match env(var) {
            Some(v) => matches!(v.as_str(), "1" | "true" | "yes"),
            None => from_file.unwrap_or(default),
        };
        let dev = flag("JIANFU_DEV", file.dev, false);
        let group_commit = flag("JIANFU_GROUP_COMMIT", file.group_commit, true);
        let require_totp = flag("JIANFU_REQUIRE_TOTP", file.require_totp, false);
        let writer_queue = parse_env_number(&env, "JIANFU_WRITER_QUEUE", "writer_queue")?
            .or(file.writer_queue)
            .map_or(crate::store::writer::QUEUE, |n| n as usize);
        if writer_queue == 0 {
            return Err(ConfigError::Invalid {
                key: "writer_queue",
                message: "must be at least 1".into(),
            });
        }

        Ok(Settings {
            file: file_path,
            public_url,
            public_url_set,
            bind,
            pool: PoolSettings {
                release_every,
                release_at,
                release_min,
                hold_max,
            },
            retention_days,
            dev,
            report_attempts,
            group_commit,
            writer_queue,
            require_totp,
        })
    }

    /// Whether the session cookie must carry `Secure` (SPEC §3.3).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn parse_file(path: &Path, text: &str) -> Result<FileSettings, ConfigError> {
    toml::from_str::<FileSettings>(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// The `JIANFU_*` variables that override the file in this process, by name.
pub fn environment_overrides() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("JIANFU_") && k != "JIANFU_DATA_DIR")
        .collect();
    names.sort();
    names
}

fn parse_env_number(
    env: &impl Fn(&str) -> Option<String>,
    var: &str,
    key: &'static str,
) -> Result<Option<u32>, ConfigError> {
    env(var)
        .map(|v| {
            v.trim().parse::<u32>().map_err(|_| ConfigError::Invalid {
                key,
                message: format!("`{v}` is not a whole number"),
            })
        })
        .transpose()
}

fn parse_public_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let ok = (trimmed.starts_with("http://") || trimmed.starts_with("https://"))
        && trimmed.split("://").nth(1).is_some_and(|h| !h.is_empty())
        && !trimmed.contains(char::is_whitespace);
    if ok {
        Ok(trimmed.to_string())
    } else {
        Err(ConfigError::Invalid {
            key: "public_url",
            message: format!("`{url}` is not an http:// or https:// address"),
        })
    }
}

/// Writes a duration the way `parse_duration` reads it, in the largest whole unit.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        // A day reads as 24h, the spec's own default.
        s if s % 86_400 == 0 && s > 86_400 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The longest release period accepted. Longer ones would hold reports for more than a year,
/// and past about 10⁸ days the release times overflow the calendar (found by fuzzing: the
/// writer thread panicked at start and no report could be filed).
pub const LONGEST_PERIOD: Duration = Duration::from_secs(366 * 86_400);

/// Parses release periods such as `1s`, `90s`, `15m`, `24h`, `7d`, at most `366d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 1s, 15m, 24h or 7d"))?;
    let secs = match unit.trim() {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => {
            return Err(format!(
                "`{text}` is not a duration like 1s, 15m, 24h or 7d"
            ))
        }
    };
    if secs == 0 {
        return Err("a release period must be at least 1s".into());
    }
    let period = Duration::from_secs(secs);
    if period > LONGEST_PERIOD {
        return Err(format!(
            "`{text}` is longer than a release period may be (366d)"
        ));
    }
    Ok(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join("jianfu-config-test-none");
        Settings::load_with_env(&dir, None, None, |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_release_daily_at_nine() {
        let s = load(&[]).unwrap();
        assert_eq!(s.pool.release_every, Duration::from_secs(86_400));
        assert_eq!(s.pool.release_at, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!(s.retention_days, 365);
        assert_eq!((s.pool.release_min, s.pool.hold_max), (3, 7));
    }

    #[test]
    fn environment_overrides_with_dots_as_underscores() {
        let s = load(&[
            ("JIANFU_POOL_RELEASE_EVERY", "1s"),
            ("JIANFU_PUBLIC_URL", "https://jf.example.org/"),
        ])
        .unwrap();
        assert_eq!(s.pool.release_every, Duration::from_secs(1));
        assert_eq!(s.public_url, "https://jf.example.org");
        assert!(s.is_https());
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = load(&[("JIANFU_POOL_RELEASE_AT", "9 o'clock")]).unwrap_err();
        assert!(e.to_string().contains("pool.release_at"));
        let e = load(&[("JIANFU_POOL_RELEASE_EVERY", "0s")]).unwrap_err();
        assert!(e.to_string().contains("pool.release_every"));
        let e = load(&[("JIANFU_PUBLIC_URL", "jf.example.org")]).unwrap_err();
        assert!(e.to_string().contains("public_url"));
        let e = load(&[("JIANFU_POOL_RELEASE_MIN", "0")]).unwrap_err();
        assert!(e.to_string().contains("pool.release_min"));
        let e = load(&[("JIANFU_POOL_HOLD_MAX", "x")]).unwrap_err();
        assert!(e.to_string().contains("pool.hold_max"));
    }

    #[test]
    fn durations_format_as_they_parse() {
        for text in ["1s", "90s", "15m", "12h", "7d"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert_eq!(parse_duration("366d").unwrap(), LONGEST_PERIOD);
        assert_eq!(parse_duration("8784h").unwrap(), LONGEST_PERIOD);
        for too_long in [
            "367d",
            "100000000d",
            "2305843009213693952s",
            "14521283175554423869h",
        ] {
            assert!(parse_duration(too_long).is_err(), "{too_long}");
        }
    }
}
