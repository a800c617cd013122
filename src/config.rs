//! Typed configuration: `config.toml` defaults, an optional file, then
//! `PAGEGRANT_<SECTION>__<KEY>` environment variables. Every key is checked by
//! name and type against the built-in defaults, so a typo stops start-up with a
//! message naming the key instead of being silently ignored.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// The shipped `config.toml` is the one source of defaults.
pub const DEFAULTS: &str = include_str!("../config.toml");
const ENV_PREFIX: &str = "PAGEGRANT_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("unknown configuration key `{0}`")]
    UnknownKey(String),
    #[error("configuration key `{key}`: {message}")]
    BadValue { key: String, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub tokens: TokensConfig,
    pub api: ApiConfig,
    pub security: SecurityConfig,
    pub demo: DemoConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub registration: RegistrationConfig,
    pub members: MembersConfig,
    pub smtp: SmtpConfig,
    pub agents: AgentsConfig,
}

/// What agents (connections) may do beyond reading and writing pages, and
/// what is kept of what they did (DESIGN §10).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    /// Days a connection's activity (reads per page and hour, writes) is
    /// kept; older rows are purged on a timer.
    pub activity_days: i64,
    /// Seconds between two writes of the reads counted in memory (and
    /// between two purges of old activity).
    pub activity_flush_s: i64,
    /// How long a page access request (`request_access`,
    /// `POST /v1/access_requests`) waits for an answer before it expires.
    pub request_ttl_s: i64,
    /// Pending access requests one connection may hold at once.
    pub max_pending_requests: u32,
    /// After a **Decline**, how long the same connection may not ask again.
    pub decline_cooldown_s: i64,
}

/// Invitations to a workspace for people without an account (issue 27
/// item 5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersConfig {
    /// How long an invitation link works.
    pub invite_ttl_s: i64,
    /// Invitations one workspace may make per hour (new links included).
    pub invites_per_hour: u32,
    /// Pending invitations one workspace may hold at once.
    pub max_pending_invites: u32,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// A plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain text: a relay on loopback, or tests.
    None,
}

/// The mail server invitation e-mails go through; none when `host` is
/// empty (the owner copies the link). The password is a secret: `Debug`
/// hides it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub from: String,
    pub timeout_s: i64,
}

impl SmtpConfig {
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<hidden>"
                },
            )
            .field("from", &self.from)
            .finish()
    }
}

/// Clients that register themselves (RFC 7591/7592, DESIGN §7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    pub dynamic: bool,
    /// Successful registrations per address per hour.
    pub max_per_ip_per_hour: u32,
    /// Refused registrations per address per hour (counted apart, so a
    /// broken client behind a NAT does not use up everyone's budget).
    pub max_refused_per_ip_per_hour: u32,
    pub unused_ttl_s: i64,
    /// How often the background purge of unused dynamic and CIMD clients runs.
    pub purge_interval_s: i64,
    /// How long a purged client's id is remembered, to tell its app to
    /// start signing in again, and how many such ids are kept at most.
    pub tombstone_ttl_s: i64,
    pub max_tombstones: u32,
    /// Single-word private-use schemes native apps may use as redirect URIs.
    pub native_schemes: Vec<String>,
    /// Client metadata document fetches per address per hour, and in all.
    pub cimd_fetches_per_ip_per_hour: u32,
    pub cimd_fetches_per_hour: u32,
    /// New CIMD clients stored per address per hour, and in all.
    pub cimd_new_clients_per_ip_per_hour: u32,
    pub cimd_new_clients_per_hour: u32,
    /// Client ID Metadata Documents: a `client_id` that is an https URL.
    pub cimd: bool,
    /// Also fetch documents from http://127.0.0.1:PORT/ and localhost (tests).
    pub cimd_dev_loopback: bool,
    /// Hosts whose documents are accepted; empty = any public host.
    pub cimd_allowed_hosts: Vec<String>,
    /// Names answered before DNS (split-horizon set-ups, tests); the
    /// addresses are checked exactly like a DNS answer.
    pub cimd_hosts: BTreeMap<String, String>,
    /// The bounds on how long a fetched document is trusted.
    pub cimd_cache_min_s: i64,
    pub cimd_cache_max_s: i64,
}

/// The window `registration.max_per_ip_per_hour` counts in.
pub const REGISTRATION_WINDOW_S: i64 = 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: String,
    pub issuer: String,
    pub data_dir: PathBuf,
    pub workers: u32,
    pub body_timeout_s: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
    pub busy_timeout_ms: u32,
    /// Threads per HTTP worker that run database work; 0 picks (see
    /// `server::db_threads`).
    pub threads: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    pub code_ttl_s: i64,
    pub access_ttl_s: i64,
    pub refresh_ttl_s: i64,
    pub refresh_reuse_grace_s: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub rate_limit_per_s: u32,
    pub rate_limit_burst: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    pub session_ttl_s: i64,
    pub consent_ttl_s: i64,
    /// How long a proof of identity (a login, **Confirm it's you**) lets a
    /// person take sensitive actions without being asked again.
    pub reauth_s: i64,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_window_s: i64,
    pub client_max_failures: u32,
    pub client_max_failures_per_ip: u32,
    pub token_max_failures_per_client: u32,
    pub client_window_s: i64,
    pub master_key_file: String,
}

impl SecurityConfig {
    /// The longest throttle window: a counter row older than this is dead
    /// under every window, so it can be purged.
    pub fn longest_window_s(&self) -> i64 {
        self.login_window_s
            .max(self.client_window_s)
            .max(REGISTRATION_WINDOW_S)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    pub seed: bool,
}

/// `/metrics` access. The token is a secret: `Debug` hides it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub token: String,
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<hidden>"
                },
            )
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub filter: String,
}

impl Config {
    /// Built-in defaults only (what `config.toml` ships with).
    pub fn defaults() -> Result<Config, ConfigError> {
        let table = parse_table(DEFAULTS, Path::new("config.toml (built in)"))?;
        into_config(table)
    }

    /// Defaults, then `file` (or `./config.toml` when present), then the
    /// process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let defaults = parse_table(DEFAULTS, Path::new("config.toml (built in)"))?;
        let mut merged = defaults.clone();
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("config.toml")).filter(|p| p.is_file()),
        };
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let file_table = parse_table(&text, &path)?;
            overlay(&defaults, &mut merged, file_table)?;
        }
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // Variables without a section separator (PAGEGRANT_TEST_DATABASE_URL) are not config.
            let Some((section, key)) = rest.split_once("__") else {
                continue;
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let dotted = format!("{section}.{key}");
            let default = defaults
                .get(&section)
                .and_then(Value::as_table)
                .and_then(|t| t.get(&key))
                .ok_or_else(|| ConfigError::UnknownKey(format!("{dotted} (from {name})")))?;
            let value = env_value(default, raw).map_err(|message| ConfigError::BadValue {
                key: format!("{dotted} (from {name})"),
                message,
            })?;
            if let Some(t) = merged.get_mut(&section).and_then(Value::as_table_mut) {
                t.insert(key, value);
            }
        }
        let config = into_config(merged)?;
        config.validate()?;
        Ok(config)
    }

    /// Range and shape checks the types alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::BadValue {
                key: key.to_string(),
                message: message.to_string(),
            })
        };
        if self.server.bind.parse::<SocketAddr>().is_err() {
            return bad("server.bind", "expected an address such as 127.0.0.1:8080");
        }
        match url::Url::parse(&self.server.issuer) {
            Ok(u)
                if (u.scheme() == "http" || u.scheme() == "https")
                    && u.host_str().is_some()
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && !self.server.issuer.ends_with('/') => {}
            _ => {
                return bad(
                    "server.issuer",
                    "expected an http(s) URL without query, fragment or trailing slash",
                )
            }
        }
        if self.server.data_dir.as_os_str().is_empty() {
            return bad("server.data_dir", "must not be empty");
        }
        if self.database.url.trim().is_empty() {
            return bad("database.url", "must not be empty");
        }
        if self.database.pool_size == 0 || self.database.pool_size > 256 {
            return bad("database.pool_size", "expected 1 to 256");
        }
        if self.database.threads > 256 {
            return bad("database.threads", "expected 0 (automatic) to 256");
        }
        for (key, v) in [
            ("tokens.code_ttl_s", self.tokens.code_ttl_s),
            ("tokens.access_ttl_s", self.tokens.access_ttl_s),
            ("tokens.refresh_ttl_s", self.tokens.refresh_ttl_s),
            ("security.session_ttl_s", self.security.session_ttl_s),
            ("security.consent_ttl_s", self.security.consent_ttl_s),
            ("security.reauth_s", self.security.reauth_s),
            ("security.login_window_s", self.security.login_window_s),
            ("security.client_window_s", self.security.client_window_s),
            ("server.body_timeout_s", self.server.body_timeout_s),
            ("registration.unused_ttl_s", self.registration.unused_ttl_s),
            (
                "registration.purge_interval_s",
                self.registration.purge_interval_s,
            ),
            (
                "registration.tombstone_ttl_s",
                self.registration.tombstone_ttl_s,
            ),
            (
                "registration.cimd_cache_min_s",
                self.registration.cimd_cache_min_s,
            ),
            ("members.invite_ttl_s", self.members.invite_ttl_s),
            ("smtp.timeout_s", self.smtp.timeout_s),
            ("agents.activity_flush_s", self.agents.activity_flush_s),
            ("agents.request_ttl_s", self.agents.request_ttl_s),
        ] {
            if v <= 0 {
                return bad(key, "must be a positive number of seconds");
            }
        }
        if !(1..=3650).contains(&self.agents.activity_days) {
            return bad("agents.activity_days", "expected 1 to 3650 days");
        }
        if self.agents.decline_cooldown_s < 0 {
            return bad(
                "agents.decline_cooldown_s",
                "must be 0 (no wait) or a positive number of seconds",
            );
        }
        if self.registration.cimd_cache_max_s < self.registration.cimd_cache_min_s {
            return bad(
                "registration.cimd_cache_max_s",
                "must be at least registration.cimd_cache_min_s",
            );
        }
        for (name, ip) in &self.registration.cimd_hosts {
            if ip.parse::<IpAddr>().is_err() {
                return bad(
                    "registration.cimd_hosts",
                    &format!("{name:?} must map to an IP address, not {ip:?}"),
                );
            }
            if name.is_empty() || name.to_ascii_lowercase() != *name {
                return bad(
                    "registration.cimd_hosts",
                    &format!("{name:?} must be a lowercase host name"),
                );
            }
        }
        if let Some(h) = self
            .registration
            .cimd_allowed_hosts
            .iter()
            .find(|h| h.is_empty() || h.to_ascii_lowercase() != **h || h.contains(['/', ':']))
        {
            return bad(
                "registration.cimd_allowed_hosts",
                &format!("{h:?} must be a lowercase host name without scheme or port"),
            );
        }
        for scheme in &self.registration.native_schemes {
            let well_formed = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
            if !well_formed {
                return bad(
                    "registration.native_schemes",
                    &format!("'{scheme}' is not a lower-case URI scheme"),
                );
            }
            // An OS handler scheme is refused even when listed (S75).
            if os_handler_scheme(scheme) || scheme.starts_with("http") {
                return bad(
                    "registration.native_schemes",
                    &format!("'{scheme}' is handed by the operating system to another program and can never be a redirect URI scheme"),
                );
            }
        }
        if self.smtp.enabled() {
            if self.smtp.from.parse::<lettre::message::Mailbox>().is_err() {
                return bad(
                    "smtp.from",
                    "set it to the sender of invitation e-mails, such as \"pagegrant <noreply@example.com>\", when smtp.host is set",
                );
            }
            if self.smtp.port == 0 {
                return bad("smtp.port", "expected 1 to 65535");
            }
            if self.smtp.username.is_empty() != self.smtp.password.is_empty() {
                return bad(
                    "smtp.password",
                    "smtp.username and smtp.password are set together, or neither",
                );
            }
        }
        if self.tokens.refresh_reuse_grace_s < 0 {
            return bad("tokens.refresh_reuse_grace_s", "must be 0 or more");
        }
        if self.security.login_max_failures_per_account == 0 {
            return bad(
                "security.login_max_failures_per_account",
                "must be at least 1",
            );
        }
        for (key, v) in [
            (
                "security.login_max_failures_per_ip",
                self.security.login_max_failures_per_ip,
            ),
            (
                "security.client_max_failures",
                self.security.client_max_failures,
            ),
            (
                "security.client_max_failures_per_ip",
                self.security.client_max_failures_per_ip,
            ),
            (
                "security.token_max_failures_per_client",
                self.security.token_max_failures_per_client,
            ),
            (
                "registration.max_per_ip_per_hour",
                self.registration.max_per_ip_per_hour,
            ),
            (
                "registration.max_refused_per_ip_per_hour",
                self.registration.max_refused_per_ip_per_hour,
            ),
            (
                "registration.max_tombstones",
                self.registration.max_tombstones,
            ),
            (
                "registration.cimd_fetches_per_ip_per_hour",
                self.registration.cimd_fetches_per_ip_per_hour,
            ),
            (
                "registration.cimd_fetches_per_hour",
                self.registration.cimd_fetches_per_hour,
            ),
            (
                "registration.cimd_new_clients_per_ip_per_hour",
                self.registration.cimd_new_clients_per_ip_per_hour,
            ),
            (
                "registration.cimd_new_clients_per_hour",
                self.registration.cimd_new_clients_per_hour,
            ),
            ("members.invites_per_hour", self.members.invites_per_hour),
            (
                "members.max_pending_invites",
                self.members.max_pending_invites,
            ),
            (
                "agents.max_pending_requests",
                self.agents.max_pending_requests,
            ),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        Ok(())
    }

    pub fn issuer_is_https(&self) -> bool {
        self.server.issuer.starts_with("https://")
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.bind.parse().map_err(|_| ConfigError::BadValue {
            key: "server.bind".into(),
            message: "expected an address such as 127.0.0.1:8080".into(),
        })
    }
}

fn parse_table(text: &str, path: &Path) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// Lays `over` onto `merged`, refusing keys the defaults do not have and
/// values of another type than the default's.
fn overlay(defaults: &Table, merged: &mut Table, over: Table) -> Result<(), ConfigError> {
    for (section, value) in over {
        let Some(default_section) = defaults.get(&section).and_then(Value::as_table) else {
            return Err(ConfigError::UnknownKey(section));
        };
        let Value::Table(entries) = value else {
            return Err(ConfigError::BadValue {
                key: section,
                message: "expected a [section] table".into(),
            });
        };
        for (key, value) in entries {
            let dotted = format!("{section}.{key}");
            let Some(default) = default_section.get(&key) else {
                return Err(ConfigError::UnknownKey(dotted));
            };
            if default.type_str() != value.type_str() {
                return Err(ConfigError::BadValue {
                    key: dotted,
                    message: format!(
                        "expected {}, found {}",
                        default.type_str(),
                        value.type_str()
                    ),
                });
            }
            if let Some(t) = merged.get_mut(&section).and_then(Value::as_table_mut) {
                t.insert(key, value);
            }
        }
    }
    Ok(())
}

/// An environment variable takes the type of the key's default.
fn env_value(default: &Value, raw: &str) -> Result<Value, String> {
    match default {
        Value::String(_) => Ok(Value::String(raw.to_string())),
        Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, found {raw:?}")),
        Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, found {raw:?}")),
        },
        other => Err(format!(
            "cannot be set from the environment ({})",
            other.type_str()
        )),
    }
}

fn into_config(table: Table) -> Result<Config, ConfigError> {
    // Types were checked against the defaults; what is left is range (a
    // negative pool size, say), reported with the key's path.
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| ConfigError::BadValue {
        key: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Schemes an operating system or browser hands to something other than
/// the app that registered them (a search, a settings page, another app, a
/// phone call, a script): refused as redirect URIs whatever the client and
/// whatever `registration.native_schemes` says (S75). `ms-*` and `itms-*`
/// are whole families. Here, at the bottom, because `validate` refuses them
/// in `registration.native_schemes` and `domain::integrations` in redirect URIs.
pub fn os_handler_scheme(scheme: &str) -> bool {
    let s = scheme.to_ascii_lowercase();
    s.starts_with("ms-")
        || s.starts_with("itms")
        || s.starts_with("chrome")
        || matches!(
            s.as_str(),
            "search-ms"
                | "search"
                | "intent"
                | "android-app"
                | "shell"
                | "explorer"
                | "tel"
                | "sms"
                | "mms"
                | "mailto"
                | "facetime"
                | "callto"
                | "skype"
                | "file"
                | "javascript"
                | "data"
                | "vbscript"
                | "about"
                | "blob"
                | "view-source"
                | "jar"
                | "ws"
                | "wss"
                | "ftp"
                | "smb"
                | "nfs"
                | "ldap"
                | "resource"
                | "x-apple-helpviewer"
                | "microsoft-edge"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn defaults_parse_and_validate() {
        let c = Config::load_from(None, &[]).expect("defaults");
        assert_eq!(c.server.bind, "127.0.0.1:8080");
        assert_eq!(c.tokens.code_ttl_s, 600);
        assert_eq!(c.api.rate_limit_burst, 90);
        assert!(c.demo.seed);
    }

    #[test]
    fn agents_activity_defaults_and_bounds() {
        let c = Config::defaults().expect("defaults");
        assert_eq!(c.agents.activity_days, 30);
        assert_eq!(c.agents.activity_flush_s, 60);
        for (key, value) in [
            ("PAGEGRANT_AGENTS__ACTIVITY_DAYS", "0"),
            ("PAGEGRANT_AGENTS__ACTIVITY_DAYS", "3651"),
            ("PAGEGRANT_AGENTS__ACTIVITY_FLUSH_S", "0"),
        ] {
            let e = Config::load_from(None, &env(&[(key, value)])).expect_err(value);
            assert!(e.to_string().contains("agents.activity_"), "{e}");
        }
    }

    #[test]
    fn env_overrides_and_types() {
        let c = Config::load_from(
            None,
            &env(&[
                ("PAGEGRANT_TOKENS__CODE_TTL_S", "5"),
                ("PAGEGRANT_DEMO__SEED", "false"),
                ("PAGEGRANT_TEST_DATABASE_URL", "ignored"),
            ]),
        )
        .expect("config");
        assert_eq!(c.tokens.code_ttl_s, 5);
        assert!(!c.demo.seed);
        let e = Config::load_from(None, &env(&[("PAGEGRANT_TOKENS__CODE_TTL_S", "soon")]))
            .expect_err("bad int");
        assert!(e.to_string().contains("tokens.code_ttl_s"), "{e}");
        let e = Config::load_from(None, &env(&[("PAGEGRANT_SERVER__BINDD", "x")]))
            .expect_err("unknown");
        assert!(e.to_string().contains("server.bindd"), "{e}");
    }

    #[test]
    fn smtp_is_off_by_default_and_checked_when_on() {
        let c = Config::load_from(None, &[]).expect("defaults");
        assert!(!c.smtp.enabled());
        assert_eq!(c.members.invite_ttl_s, 7 * 24 * 3600);
        assert_eq!(c.agents.request_ttl_s, 3600);
        let e = Config::load_from(None, &env(&[("PAGEGRANT_SMTP__HOST", "mail.example.com")]))
            .expect_err("no sender");
        assert!(e.to_string().contains("smtp.from"), "{e}");
        let e = Config::load_from(None, &env(&[("PAGEGRANT_SMTP__SECURITY", "ssl")]))
            .expect_err("bad security");
        assert!(e.to_string().contains("smtp.security"), "{e}");
        let c = Config::load_from(
            None,
            &env(&[
                ("PAGEGRANT_SMTP__HOST", "mail.example.com"),
                ("PAGEGRANT_SMTP__FROM", "pagegrant <noreply@example.com>"),
                ("PAGEGRANT_SMTP__USERNAME", "pg"),
                ("PAGEGRANT_SMTP__PASSWORD", "hunter22"),
            ]),
        )
        .expect("smtp on");
        assert!(c.smtp.enabled());
        assert!(!format!("{:?}", c.smtp).contains("hunter22"));
    }

    #[test]
    fn out_of_range_names_key() {
        let e = Config::load_from(None, &env(&[("PAGEGRANT_DATABASE__POOL_SIZE", "0")]))
            .expect_err("zero");
        assert!(e.to_string().contains("database.pool_size"), "{e}");
        let e = Config::load_from(None, &env(&[("PAGEGRANT_DATABASE__POOL_SIZE", "-3")]))
            .expect_err("negative");
        assert!(e.to_string().contains("database.pool_size"), "{e}");
        let e = Config::load_from(None, &env(&[("PAGEGRANT_SERVER__ISSUER", "ftp://x")]))
            .expect_err("issuer");
        assert!(e.to_string().contains("server.issuer"), "{e}");
    }
}
