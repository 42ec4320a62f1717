//! Configuration: defaults (`config.default.toml`, the documented list of keys) → optional
//! TOML file → environment, validated once at boot into [`Settings`] with messages that say
//! which key is wrong and how to fix it.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::Deserialize;

/// The documented defaults, compiled in.
pub const DEFAULTS: &str = include_str!("../config.default.toml");

/// How strict the server is about secrets and migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Generates missing secrets, applies migrations on start.
    Development,
    /// Requires secrets, refuses pending migrations.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The raw configuration, as layered from defaults, file and environment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    mode: Mode,
    data_dir: PathBuf,
    bind: String,
    public_url: String,
    database_url: String,
    db_max_connections: u32,
    redis_url: String,
    redis_prefix: String,
    session_key: String,
    token_encryption_key: String,
    previous_token_encryption_keys: String,
    log_format: LogFormat,
    log_level: String,
    api_body_limit: usize,
    webhook_body_limit: usize,
    dashboard_dir: PathBuf,
    login_max_failures: u32,
    login_window_secs: u64,
    session_ttl_hours: i64,
    invitation_ttl_hours: i64,
    poll_interval_secs: u64,
    reconcile_concurrency: usize,
    intake_writers: usize,
    delivery_lease_secs: u64,
    #[serde(default)]
    oauth_apps: std::collections::BTreeMap<String, concord_connectors::api::oauth::OAuthApp>,
}

/// A key held in memory that never prints.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Validated settings the whole process runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Development or production.
    pub mode: Mode,
    /// Directory for the embedded database and generated secrets.
    pub data_dir: PathBuf,
    /// Listen address.
    pub bind: SocketAddr,
    /// Where users reach Concord.
    pub public_url: String,
    /// Database URL (defaulted to SQLite in `data_dir`).
    pub database_url: String,
    /// Pool size.
    pub db_max_connections: u32,
    /// Redis URL; `None` means embedded queue and in-process limits.
    pub redis_url: Option<String>,
    /// Prefix for Redis keys.
    pub redis_prefix: String,
    /// Keys session fingerprints.
    pub session_key: SecretKey,
    /// Encrypts platform credentials at rest.
    pub token_encryption_key: SecretKey,
    /// Keys that sealed stored secrets before the current one (rotation).
    pub previous_token_encryption_keys: Vec<SecretKey>,
    /// Log format.
    pub log_format: LogFormat,
    /// Tracing filter.
    pub log_level: String,
    /// Largest JSON body accepted.
    pub api_body_limit: usize,
    /// Largest webhook delivery accepted.
    pub webhook_body_limit: usize,
    /// Where the built dashboard bundle is served from.
    pub dashboard_dir: PathBuf,
    /// Running as `concord demo`: connections show the simulator behind them.
    pub demo: bool,
    /// Failed sign-ins allowed per email within the window.
    pub login_max_failures: u32,
    /// The sign-in rate-limit window.
    pub login_window_secs: u64,
    /// Session lifetime.
    pub session_ttl_hours: i64,
    /// Invitation lifetime.
    pub invitation_ttl_hours: i64,
    /// How often each connection's platform is polled for order changes.
    pub poll_interval_secs: u64,
    /// Scheduled reconciles run at once (each connection keeps its own request budget);
    /// 0 means 4 on PostgreSQL and 1 on the embedded SQLite file, which has one writer.
    pub reconcile_concurrency: usize,
    /// Webhook intake writers, each committing the deliveries queued while the last
    /// commit ran; 0 means 2 on PostgreSQL and 1 on SQLite (one writer).
    pub intake_writers: usize,
    /// How long a worker holds the deliveries it took before another may take them over.
    pub delivery_lease_secs: u64,
    /// Concord's app registration per platform slug, for connecting accounts by OAuth.
    pub oauth_apps: std::collections::BTreeMap<String, concord_connectors::api::oauth::OAuthApp>,
}

/// Why the configuration was refused: one line per problem.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

impl Settings {
    /// Loads the layered configuration: defaults, then `file` if given (or `CONCORD_CONFIG`),
    /// then `CONCORD_*`, `DATABASE_URL` and `REDIS_URL` from the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("CONCORD_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = &file {
            if !path.exists() {
                return Err(ConfigError(vec![format!(
                    "config file {} does not exist",
                    path.display()
                )]));
            }
            figment = figment.merge(Toml::file(path));
        }
        let figment = figment
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]))
            .merge(Env::prefixed("CONCORD_").ignore(&["CONFIG"]).split("__"));
        let raw: Raw = figment
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| e.to_string()).collect()))?;
        Self::validate(raw)
    }

    /// The defaults overlaid with `toml` only, ignoring files and the environment: for
    /// embedding Concord in another process and for tests.
    pub fn from_toml(toml: &str) -> Result<Self, ConfigError> {
        let raw: Raw = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string(toml))
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| e.to_string()).collect()))?;
        Self::validate(raw)
    }

    fn validate(raw: Raw) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let bind = raw.bind.parse::<SocketAddr>().unwrap_or_else(|_| {
            problems.push(format!(
                "bind: `{}` is not an address like 127.0.0.1:8080",
                raw.bind
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let database_url = if raw.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                raw.data_dir.join("concord.db").display()
            )
        } else {
            raw.database_url.clone()
        };
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            problems.push("database_url: must start with sqlite: or postgres://".to_owned());
        }
        let redis_url = Some(raw.redis_url.clone()).filter(|u| !u.is_empty());
        if redis_url
            .as_deref()
            .is_some_and(|u| !u.starts_with("redis"))
        {
            problems.push("redis_url: must start with redis:// or rediss://".to_owned());
        }
        if !raw.public_url.starts_with("http://") && !raw.public_url.starts_with("https://") {
            problems.push("public_url: must start with http:// or https://".to_owned());
        }
        for (key, value) in [
            ("db_max_connections", u64::from(raw.db_max_connections)),
            ("api_body_limit", raw.api_body_limit as u64),
            ("webhook_body_limit", raw.webhook_body_limit as u64),
            ("login_max_failures", u64::from(raw.login_max_failures)),
            ("login_window_secs", raw.login_window_secs),
            ("poll_interval_secs", raw.poll_interval_secs),
            ("delivery_lease_secs", raw.delivery_lease_secs),
        ] {
            if value == 0 {
                problems.push(format!("{key}: must be greater than 0"));
            }
        }
        for (key, value) in [
            ("session_ttl_hours", raw.session_ttl_hours),
            ("invitation_ttl_hours", raw.invitation_ttl_hours),
        ] {
            if value <= 0 {
                problems.push(format!("{key}: must be greater than 0"));
            }
        }
        let session_key = secret(
            &raw,
            "session_key",
            &raw.session_key,
            32,
            false,
            &mut problems,
        );
        let token_encryption_key = secret(
            &raw,
            "token_encryption_key",
            &raw.token_encryption_key,
            32,
            true,
            &mut problems,
        );
        let previous_token_encryption_keys = raw
            .previous_token_encryption_keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .filter_map(|k| match base64::engine::general_purpose::STANDARD.decode(k) {
                Ok(bytes) if bytes.len() == 32 => Some(SecretKey(bytes)),
                _ => {
                    problems.push(
                        "previous_token_encryption_keys: each must be base64 of 32 bytes, comma-separated"
                            .to_owned(),
                    );
                    None
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Self {
            previous_token_encryption_keys,
            mode: raw.mode,
            bind,
            public_url: raw.public_url.trim_end_matches('/').to_owned(),
            database_url,
            db_max_connections: raw.db_max_connections,
            redis_url,
            redis_prefix: raw.redis_prefix,
            session_key,
            token_encryption_key,
            log_format: raw.log_format,
            log_level: raw.log_level,
            api_body_limit: raw.api_body_limit,
            webhook_body_limit: raw.webhook_body_limit,
            dashboard_dir: raw.dashboard_dir,
            demo: false,
            login_max_failures: raw.login_max_failures,
            login_window_secs: raw.login_window_secs,
            session_ttl_hours: raw.session_ttl_hours,
            invitation_ttl_hours: raw.invitation_ttl_hours,
            poll_interval_secs: raw.poll_interval_secs,
            reconcile_concurrency: raw.reconcile_concurrency,
            intake_writers: raw.intake_writers,
            delivery_lease_secs: raw.delivery_lease_secs,
            oauth_apps: raw.oauth_apps,
            data_dir: raw.data_dir,
        })
    }

    /// Whether the database is the embedded SQLite file.
    pub fn is_embedded_database(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Decodes a base64 key of `min_len` bytes (exactly, if `exact`). Empty in development: a
/// key generated once and kept in `data_dir/secrets/KEY`, so restarts keep sessions.
fn secret(
    raw: &Raw,
    key: &str,
    value: &str,
    min_len: usize,
    exact: bool,
    problems: &mut Vec<String>,
) -> SecretKey {
    let env = format!("CONCORD_{}", key.to_uppercase());
    let hint = format!("set {env} to the output of `openssl rand -base64 32`");
    let encoded = if value.is_empty() {
        if raw.mode == Mode::Production {
            problems.push(format!("{key}: required in production mode; {hint}"));
            return SecretKey(Vec::new());
        }
        match development_secret(&raw.data_dir, key) {
            Ok(generated) => generated,
            Err(e) => {
                problems.push(format!(
                    "{key}: could not keep a generated key in {}: {e}",
                    raw.data_dir.display()
                ));
                return SecretKey(Vec::new());
            }
        }
    } else {
        value.to_owned()
    };
    match STANDARD.decode(encoded.trim()) {
        Ok(bytes) if bytes.len() == min_len || (!exact && bytes.len() > min_len) => {
            SecretKey(bytes)
        }
        Ok(bytes) => {
            let want = if exact { "exactly" } else { "at least" };
            problems.push(format!(
                "{key}: decodes to {} bytes, needs {want} {min_len}; {hint}",
                bytes.len()
            ));
            SecretKey(Vec::new())
        }
        Err(_) => {
            problems.push(format!("{key}: is not valid base64; {hint}"));
            SecretKey(Vec::new())
        }
    }
}

fn development_secret(data_dir: &Path, key: &str) -> std::io::Result<String> {
    let dir = data_dir.join("secrets");
    let path = dir.join(key);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing);
    }
    std::fs::create_dir_all(&dir)?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let encoded = STANDARD.encode(bytes);
    write_private(&path, &encoded)?;
    Ok(encoded)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_from(toml: &str) -> Raw {
        Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string(toml))
            .extract()
            .expect("layered config")
    }

    #[test]
    fn production_requires_secrets_and_says_how_to_make_them() {
        let err = Settings::validate(raw_from("mode = \"production\"")).expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("session_key: required in production mode"),
            "{text}"
        );
        assert!(text.contains("token_encryption_key: required"), "{text}");
        assert!(text.contains("openssl rand -base64 32"), "{text}");
    }

    #[test]
    fn development_generates_and_keeps_secrets() {
        let dir = std::env::temp_dir().join(format!("concord-cfg-{}", rand::random::<u64>()));
        let toml = format!("data_dir = {:?}", dir.display().to_string());
        let first = Settings::validate(raw_from(&toml)).expect("valid");
        let second = Settings::validate(raw_from(&toml)).expect("valid");
        assert_eq!(first.session_key.expose().len(), 32);
        assert_eq!(first.session_key.expose(), second.session_key.expose());
        assert_ne!(
            first.session_key.expose(),
            first.token_encryption_key.expose()
        );
        assert!(first.database_url.starts_with("sqlite://"));
        assert!(first.redis_url.is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_values_are_all_reported_at_once() {
        let err = Settings::validate(raw_from(
            "data_dir = \"/dev/null/concord\"\nbind = \"nowhere\"\ndatabase_url = \"mysql://x\"\nsession_key = \"c2hvcnQ=\"\napi_body_limit = 0",
        ))
        .expect_err("refused");
        let text = err.to_string();
        for needle in [
            "bind:",
            "database_url:",
            "session_key: decodes to 5 bytes",
            "api_body_limit:",
            "token_encryption_key: could not keep",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let result: Result<Raw, _> = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string("bnid = \"0.0.0.0:1\""))
            .extract();
        assert!(
            result
                .expect_err("typo refused")
                .to_string()
                .contains("bnid")
        );
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", SecretKey(vec![1, 2, 3])), "SecretKey(***)");
    }
}
