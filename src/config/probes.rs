//! The probes' configuration: `[[probes]]` (one table per URL) and `[probing]` (settings shared
//! by every probe and the Kubernetes probe audit). TOML cannot have both `[[probes]]` and a
//! `[probes]` table, so the shared settings live under `[probing]`.
//!
//! Every value is range-checked by [`validate`] (called from `Config::validate`), with an error
//! that names the probe and the key.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::HumanDuration;

fn secs(n: u64) -> HumanDuration {
    HumanDuration(Duration::from_secs(n))
}

/// One `[[probes]]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    #[serde(default = "default_interval")]
    pub interval: HumanDuration,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub timeouts: ProbeTimeouts,
    /// Codes or ranges (`200`, `"200-399"`); empty = any 2xx.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_status: Vec<StatusRange>,
    /// The body (first 1 MiB) must match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_regex: Option<String>,
    /// p99 latency objective (total time of successful attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_p99: Option<HumanDuration>,
    /// How long p99 must stay above `slo_p99` before the warning fires.
    #[serde(default = "default_slo_for")]
    pub slo_for: HumanDuration,
    /// SNI and Host header instead of the URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// PEM file of the CAs to trust instead of the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    #[serde(default)]
    pub ip: IpPreference,
    /// Keep the connection between attempts (measures the warm path: no DNS, connect, TLS).
    #[serde(default)]
    pub reuse: bool,
}

fn default_interval() -> HumanDuration {
    secs(10)
}
fn default_method() -> String {
    "GET".into()
}
fn default_slo_for() -> HumanDuration {
    secs(300)
}

impl ProbeConfig {
    /// A GET probe of `url` with the defaults.
    pub fn new(name: &str, url: &str) -> ProbeConfig {
        ProbeConfig {
            name: name.into(),
            url: url.into(),
            interval: default_interval(),
            method: default_method(),
            headers: BTreeMap::new(),
            timeouts: ProbeTimeouts::default(),
            expect_status: Vec::new(),
            body_regex: None,
            slo_p99: None,
            slo_for: default_slo_for(),
            server_name: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            ip: IpPreference::default(),
            reuse: false,
        }
    }
}

/// One deadline per phase, and one for the whole attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeTimeouts {
    pub dns: HumanDuration,
    pub connect: HumanDuration,
    pub tls: HumanDuration,
    /// From the request sent to the response headers (time to first byte).
    pub headers: HumanDuration,
    /// The whole attempt, body included.
    pub total: HumanDuration,
}

impl Default for ProbeTimeouts {
    fn default() -> Self {
        ProbeTimeouts {
            dns: secs(1),
            connect: secs(1),
            tls: secs(2),
            headers: secs(3),
            total: secs(10),
        }
    }
}

impl ProbeTimeouts {
    /// The largest deadline an attempt can run into.
    pub fn largest(&self) -> Duration {
        self.total.0
    }
}

/// Which address family to connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IpPreference {
    #[default]
    PreferIpv4,
    PreferIpv6,
    Ipv4,
    Ipv6,
}

/// An accepted status code range, inclusive. Written `200` or `"200-399"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    pub lo: u16,
    pub hi: u16,
}

impl StatusRange {
    pub fn contains(&self, code: u16) -> bool {
        (self.lo..=self.hi).contains(&code)
    }
}

impl Serialize for StatusRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.lo == self.hi {
            s.serialize_u16(self.lo)
        } else {
            s.serialize_str(&format!("{}-{}", self.lo, self.hi))
        }
    }
}

impl<'de> Deserialize<'de> for StatusRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Code(i64),
            Text(String),
        }
        let bad = |what: &str| {
            serde::de::Error::custom(format!(
                "invalid status {what:?}: expected a code 100-599 or a range like \"200-399\""
            ))
        };
        let code =
            |n: i64| -> Option<u16> { u16::try_from(n).ok().filter(|c| (100..=599).contains(c)) };
        match Raw::deserialize(d)? {
            Raw::Code(n) => {
                let c = code(n).ok_or_else(|| bad(&n.to_string()))?;
                Ok(StatusRange { lo: c, hi: c })
            }
            Raw::Text(t) => {
                let parse = |s: &str| s.trim().parse::<i64>().ok().and_then(code);
                let (lo, hi) = match t.split_once('-') {
                    Some((a, b)) => (parse(a), parse(b)),
                    None => (parse(&t), parse(&t)),
                };
                match (lo, hi) {
                    (Some(lo), Some(hi)) if lo <= hi => Ok(StatusRange { lo, hi }),
                    _ => Err(bad(&t)),
                }
            }
        }
    }
}

/// `[probing]`: settings of every probe and of the Kubernetes probe audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeSettings {
    /// How far back p50, p99 and OK% look.
    pub window: HumanDuration,
    /// Attempts kept per probe (the ring's size; the oldest go first).
    pub history: usize,
    /// Audit the HTTP readiness/liveness probes of the pods in scope and measure their
    /// endpoints through the API server's pod proxy.
    pub kubernetes: bool,
    /// At most this many pod-proxy requests at once.
    pub kubernetes_concurrency: usize,
    /// How often the audit lists pods and measures their probes.
    pub kubernetes_interval: HumanDuration,
    /// `check`: attempts per probe (`--attempts` overrides).
    pub check_attempts: u32,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            window: secs(3600),
            history: 720,
            kubernetes: false,
            kubernetes_concurrency: 4,
            kubernetes_interval: secs(30),
            check_attempts: 1,
        }
    }
}

/// Every range check on `[[probes]]` and `[probing]`, with a message naming the probe and key.
pub fn validate(probes: &[ProbeConfig], settings: &ProbeSettings) -> Result<(), String> {
    let s = settings;
    if s.history == 0 || s.history > 100_000 {
        return Err(format!(
            "probing.history = {} is out of range (1-100000)",
            s.history
        ));
    }
    if s.window.0 < Duration::from_secs(10) || s.window.0 > Duration::from_secs(7 * 86_400) {
        return Err("probing.window must be between 10s and 7d".into());
    }
    if s.kubernetes_concurrency == 0 || s.kubernetes_concurrency > 64 {
        return Err(format!(
            "probing.kubernetes_concurrency = {} is out of range (1-64)",
            s.kubernetes_concurrency
        ));
    }
    if s.kubernetes_interval.0 < Duration::from_secs(1) {
        return Err("probing.kubernetes_interval must be at least 1s".into());
    }
    if s.check_attempts == 0 || s.check_attempts > 1000 {
        return Err(format!(
            "probing.check_attempts = {} is out of range (1-1000)",
            s.check_attempts
        ));
    }
    let mut names = std::collections::HashSet::new();
    for (i, p) in probes.iter().enumerate() {
        let at = if p.name.trim().is_empty() {
            format!("probes[{i}]")
        } else {
            format!("probe {:?}", crate::sanitize::line(&p.name))
        };
        if p.name.trim().is_empty() {
            return Err(format!("{at}: name must not be empty"));
        }
        if !names.insert(p.name.as_str()) {
            return Err(format!("{at}: two probes have this name"));
        }
        let url = reqwest::Url::parse(&p.url).map_err(|e| format!("{at}: url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "{at}: url {:?} is not an http:// or https:// URL with a host",
                crate::sanitize::line(&p.url)
            ));
        }
        if p.interval.0 < Duration::from_millis(500) || p.interval.0 > Duration::from_secs(86_400) {
            return Err(format!("{at}: interval must be between 500ms and 24h"));
        }
        if http::Method::from_bytes(p.method.as_bytes()).is_err() || p.method.is_empty() {
            return Err(format!("{at}: method {:?} is not an HTTP method", p.method));
        }
        for (k, v) in &p.headers {
            if http::HeaderName::from_bytes(k.as_bytes()).is_err()
                || http::HeaderValue::from_str(v).is_err()
            {
                return Err(format!("{at}: header {k:?} is not a valid HTTP header"));
            }
        }
        let t = &p.timeouts;
        for (key, d) in [
            ("dns", t.dns),
            ("connect", t.connect),
            ("tls", t.tls),
            ("headers", t.headers),
            ("total", t.total),
        ] {
            if d.0 < Duration::from_millis(1) || d.0 > Duration::from_secs(600) {
                return Err(format!("{at}: timeouts.{key} must be between 1ms and 10m"));
            }
        }
        if let Some(re) = &p.body_regex
            && let Err(e) = regex::RegexBuilder::new(re).size_limit(1 << 20).build()
        {
            return Err(format!("{at}: body_regex: {e}"));
        }
        if let Some(slo) = p.slo_p99
            && (slo.0.is_zero() || slo.0 > Duration::from_secs(600))
        {
            return Err(format!("{at}: slo_p99 must be between 1ms and 10m"));
        }
        if p.slo_for.0 > Duration::from_secs(7 * 86_400) {
            return Err(format!("{at}: slo_for must be at most 7d"));
        }
        if let Some(sn) = &p.server_name
            && rustls_pki_types::ServerName::try_from(sn.as_str()).is_err()
        {
            return Err(format!("{at}: server_name {sn:?} is not a DNS name or IP"));
        }
        if p.client_cert.is_some() != p.client_key.is_some() {
            return Err(format!(
                "{at}: client_cert and client_key go together (one is missing)"
            ));
        }
        if url.scheme() == "http"
            && (p.ca_file.is_some() || p.client_cert.is_some() || p.server_name.is_some())
        {
            // server_name on http:// only overrides Host: allowed. TLS files are not.
            if p.ca_file.is_some() || p.client_cert.is_some() {
                return Err(format!("{at}: ca_file / client_cert need an https:// url"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, ConfigError};
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("/etc/ondeck.toml"))
    }

    #[test]
    fn the_issue_example_parses() {
        let text = r#"
[[probes]]
name = "payments-api"
url = "https://payments.internal:8443/healthz"
interval = "10s"
method = "GET"
headers = { "X-Probe" = "ondeck" }
timeouts = { dns = "1s", connect = "1s", tls = "2s", headers = "3s", total = "10s" }
expect_status = [200, "300-399"]
body_regex = "ok"
slo_p99 = "300ms"
server_name = "payments.internal"
ip = "prefer-ipv4"

[[probes]]
name = "plain"
url = "http://127.0.0.1:8080/"
reuse = true

[probing]
kubernetes = true
kubernetes_concurrency = 2
"#;
        let cfg = parse(text).expect("parses");
        assert_eq!(cfg.probes.len(), 2);
        let p = &cfg.probes[0];
        assert_eq!(p.timeouts.tls.0, Duration::from_secs(2));
        assert_eq!(
            p.expect_status,
            vec![
                StatusRange { lo: 200, hi: 200 },
                StatusRange { lo: 300, hi: 399 }
            ]
        );
        assert_eq!(p.slo_p99.map(|d| d.0), Some(Duration::from_millis(300)));
        assert_eq!(p.headers.get("X-Probe").map(String::as_str), Some("ondeck"));
        assert!(cfg.probes[1].reuse);
        assert_eq!(cfg.probes[1].interval.0, Duration::from_secs(10));
        assert!(cfg.probing.kubernetes);
        assert_eq!(cfg.probing.kubernetes_concurrency, 2);
    }

    fn invalid(text: &str) -> String {
        match parse(text) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {text}"),
        }
    }

    #[test]
    fn bad_values_are_named() {
        let e = invalid("[[probes]]\nname = \"a\"\nurl = \"ftp://x/\"\n");
        assert!(e.contains("probe \"a\"") && e.contains("http://"), "{e}");
        let e = invalid("[[probes]]\nname = \"a\"\nurl = \"http://x/\"\nexpect_status = [700]\n");
        assert!(e.contains("700"), "{e}");
        let e = invalid(
            "[[probes]]\nname = \"a\"\nurl = \"http://x/\"\nexpect_status = [\"399-200\"]\n",
        );
        assert!(e.contains("399-200"), "{e}");
        let e = invalid("[[probes]]\nname = \"a\"\nurl = \"http://x/\"\nbody_regex = \"(\"\n");
        assert!(e.contains("body_regex"), "{e}");
        let e = invalid(
            "[[probes]]\nname = \"a\"\nurl = \"http://x/\"\ntimeouts = { connect = \"0s\" }\n",
        );
        assert!(e.contains("timeouts.connect"), "{e}");
        let e = invalid("[[probes]]\nname = \"a\"\nurl = \"http://x/\"\nip = \"ipv5\"\n");
        assert!(e.contains("ipv5"), "{e}");
        let e = invalid(
            "[[probes]]\nname = \"a\"\nurl = \"http://x/\"\n[[probes]]\nname = \"a\"\nurl = \"http://y/\"\n",
        );
        assert!(e.contains("two probes"), "{e}");
        let e = invalid("[probing]\nkubernetes_concurrency = 0\n");
        assert!(e.contains("kubernetes_concurrency"), "{e}");
        let e = invalid("[[probes]]\nname = \"a\"\nurl = \"http://x/\"\nbogus = 1\n");
        assert!(e.contains("bogus"), "{e}");
    }
}
