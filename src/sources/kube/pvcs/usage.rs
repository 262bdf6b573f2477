//! Used space per claim: the kubelet's stats summary of each node that runs a pod mounting a
//! claim, fetched through the API server's node proxy under the request deadline, parsed
//! leniently (a malformed volume entry is that volume's unknown, never the node's), and
//! gathered into a [`UsageMap`] the snapshot builder reads without waiting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;

use super::super::KubeTarget;
use super::super::errors::{self, Op};
use super::super::pods::ClaimUser;
use super::{FORBIDDEN_PROXY, NOT_MOUNTED, USAGE_CONCURRENCY};
use crate::domain::pods::NamespaceScope;
use crate::domain::pvcs::{PvcUser, UsageStatus, UsedSpace};

/// Used space per claim as the last poll found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageMap {
    /// `(namespace, claim) -> Known` for every mounted claim the kubelets reported.
    pub by_claim: HashMap<(String, String), UsedSpace>,
    /// Nodes that were asked, with why they did not answer (absent = answered).
    pub node_errors: HashMap<String, String>,
    pub polled: HashSet<String>,
    pub status: UsageStatus,
}

impl UsageMap {
    /// The used space of a claim whose users are `users`.
    pub fn used_of(&self, key: &(String, String), users: &[PvcUser]) -> UsedSpace {
        if let Some(u) = self.by_claim.get(key) {
            return u.clone();
        }
        let nodes: Vec<&str> = users
            .iter()
            .filter(|u| u.holds_volume())
            .filter_map(|u| u.node.as_deref())
            .collect();
        if nodes.is_empty() {
            return UsedSpace::unknown(NOT_MOUNTED);
        }
        for n in &nodes {
            if let Some(why) = self.node_errors.get(*n) {
                return UsedSpace::unknown(why.clone());
            }
        }
        if nodes.iter().any(|n| !self.polled.contains(*n)) {
            return UsedSpace::unknown("not collected yet");
        }
        UsedSpace::unknown(NOT_MOUNTED)
    }
}

fn as_u64(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

/// One kubelet stats summary as ondeck reads it: only `pods[].volume[]` is kept; everything
/// else (containers, CPU, memory, network, the node's own figures, most of a real kubelet's
/// answer) is skipped while parsing, never built into a JSON tree. Lenient like the rest: a
/// `pods` that is not a list is no pods list; a pod or a volume list that is not what it should
/// be is skipped.
#[derive(Default)]
struct LeanSummary {
    /// `None`: no `pods` list at all.
    pods: Option<Vec<Vec<serde_json::Value>>>,
}

/// Accepts any JSON value: `visit_seq` / `visit_map` hand over to the caller's logic, every
/// other kind is "not what we want" (`T::default()`).
struct Lenient<T>(std::marker::PhantomData<T>);

macro_rules! lenient_scalars {
    () => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

/// The summary document: `{"pods": [...], ...}`.
impl<'de> serde::de::Visitor<'de> for Lenient<LeanSummary> {
    type Value = LeanSummary;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a kubelet stats summary")
    }
    lenient_scalars!();
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<LeanSummary, A::Error> {
        while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(LeanSummary::default())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<LeanSummary, A::Error> {
        let mut out = LeanSummary::default();
        while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == "pods" {
                out.pods = a.next_value::<LeanPods>()?.0;
            } else {
                a.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

impl<'de> serde::Deserialize<'de> for LeanSummary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lenient::<LeanSummary>(std::marker::PhantomData))
    }
}

/// `pods`: a list (of pods, each read as its volume list), else `None`.
#[derive(Default)]
struct LeanPods(Option<Vec<Vec<serde_json::Value>>>);

impl<'de> serde::de::Visitor<'de> for Lenient<LeanPods> {
    type Value = LeanPods;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of pods")
    }
    lenient_scalars!();
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<LeanPods, A::Error> {
        let mut pods = Vec::new();
        while let Some(p) = a.next_element::<LeanPod>()? {
            if !p.0.is_empty() {
                pods.push(p.0);
            }
        }
        Ok(LeanPods(Some(pods)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<LeanPods, A::Error> {
        while a
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(LeanPods(None))
    }
}

impl<'de> serde::Deserialize<'de> for LeanPods {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lenient::<LeanPods>(std::marker::PhantomData))
    }
}

/// One pod of the summary: its `volume` list (each entry a small JSON value), nothing else.
#[derive(Default)]
struct LeanPod(Vec<serde_json::Value>);

impl<'de> serde::de::Visitor<'de> for Lenient<LeanPod> {
    type Value = LeanPod;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a pod's stats")
    }
    lenient_scalars!();
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<LeanPod, A::Error> {
        while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(LeanPod::default())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<LeanPod, A::Error> {
        let mut out = LeanPod::default();
        while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == "volume" {
                // Not a list: no volumes (as before: skipped, never an error).
                if let serde_json::Value::Array(v) = a.next_value::<serde_json::Value>()? {
                    out.0 = v;
                }
            } else {
                a.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

impl<'de> serde::Deserialize<'de> for LeanPod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lenient::<LeanPod>(std::marker::PhantomData))
    }
}

/// Used space per claim, `(namespace, claim)`, as one kubelet reported it.
pub type ClaimUsage = Vec<((String, String), UsedSpace)>;

/// The claims' volumes in one kubelet stats summary (`pods[].volume[]` with a `pvcRef`).
/// Lenient: a malformed volume entry is skipped, never a panic; `None` when the document has no
/// `pods` list at all (not a stats summary: the node's figures are unknown).
pub fn parse_summary(v: &serde_json::Value) -> Option<ClaimUsage> {
    let lean = <LeanSummary as serde::Deserialize>::deserialize(v).ok()?;
    Some(summary_volumes(lean.pods?.iter().flatten()))
}

/// [`parse_summary`] straight from the response text, without building the document's JSON
/// tree (a real kubelet's summary is mostly container and network figures ondeck never reads).
/// `Err`: not JSON at all.
pub fn parse_summary_text(text: &str) -> Result<Option<ClaimUsage>, serde_json::Error> {
    let lean: LeanSummary = serde_json::from_str(text)?;
    Ok(lean.pods.map(|p| summary_volumes(p.iter().flatten())))
}

fn summary_volumes<'a>(volumes: impl Iterator<Item = &'a serde_json::Value>) -> ClaimUsage {
    let mut out = Vec::new();
    for vol in volumes {
        let Some(r) = vol.get("pvcRef") else {
            continue;
        };
        let (Some(name), Some(ns)) = (
            r.get("name").and_then(|x| x.as_str()),
            r.get("namespace").and_then(|x| x.as_str()),
        ) else {
            continue;
        };
        let key = (ns.to_string(), name.to_string());
        let Some(raw) = vol.get("usedBytes") else {
            continue;
        };
        // Numbers from the API are range-checked: a negative, fractional-overflowing or
        // non-numeric figure, or more used than the volume holds (over 100%), is unknown
        // and says so, never a healthy value.
        let odd = |what: &str, v: &serde_json::Value| {
            let mut raw = v.to_string();
            raw.truncate(40);
            UsedSpace::unknown(crate::sanitize::line(&format!(
                "the kubelet reported an invalid {what} ({raw})"
            )))
        };
        let Some(used) = as_u64(raw) else {
            out.push((key, odd("usedBytes", raw)));
            continue;
        };
        let capacity = vol.get("capacityBytes").and_then(as_u64);
        if let Some(c) = capacity
            && used > c
        {
            out.push((
                key,
                UsedSpace::unknown(format!(
                    "the kubelet reported usedBytes {used} above capacityBytes {c}"
                )),
            ));
            continue;
        }
        out.push((
            key,
            UsedSpace::Known {
                used_bytes: used,
                capacity_bytes: capacity,
                available_bytes: vol
                    .get("availableBytes")
                    .and_then(as_u64)
                    .filter(|a| capacity.is_none_or(|c| *a <= c)),
            },
        ));
    }
    out
}

/// A node name safe to put in a path (DNS subdomain characters only).
pub(super) fn path_safe(node: &str) -> bool {
    !node.is_empty()
        && node.len() <= 253
        && node
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

enum NodeResult {
    Ok(Vec<((String, String), UsedSpace)>),
    Forbidden,
    Failed(String),
}

/// What one stats summary body said: its claims' figures, or why it could not be read.
type Parsed = Result<ClaimUsage, String>;
/// A node's last body: the hash of its bytes and what it said.
type LastBody = (u64, Parsed);

/// Each node's last stats summary body, as a hash of its bytes, with what parsing it gave. The
/// kubelet measures volumes once a minute and serves the same document in between, so an idle
/// cluster's nodes mostly answer byte for byte what they answered last time: that answer is
/// not parsed again. Only the nodes of the last poll are kept (bounded by the node set); a node
/// that did not answer with a body this time is forgotten, so its next body is parsed.
#[derive(Debug, Default)]
pub struct SummaryCache {
    /// Keyed per process: a kubelet cannot aim a body at another body's hash.
    hasher: std::hash::RandomState,
    by_node: HashMap<String, LastBody>,
}

impl SummaryCache {
    fn hash(&self, body: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(body.as_bytes())
    }
}

/// `node`'s summary `body` (whose hash is `hash`) read: what `last` (that node's previous
/// body's hash and result) said when the bytes are the same, else parsed.
fn read_summary(node: &str, body: &str, hash: u64, last: Option<&LastBody>) -> Parsed {
    if let Some((h, parsed)) = last
        && *h == hash
    {
        return parsed.clone();
    }
    match parse_summary_text(body) {
        Ok(Some(entries)) => Ok(entries),
        Ok(None) => Err(format!(
            "node {node}: unreadable stats summary (no pods list)"
        )),
        Err(e) => Err(format!("node {node}: unreadable stats summary: {e}")),
    }
}

/// One node's stats summary, and what to remember of its body (`None`: no body this time).
async fn node_summary(
    target: &KubeTarget,
    node: &str,
    timeout: Duration,
    cache: &SummaryCache,
) -> (NodeResult, Option<LastBody>) {
    if !path_safe(node) {
        return (
            NodeResult::Failed("node name not usable in a URL".into()),
            None,
        );
    }
    let req = match http::Request::get(format!("/api/v1/nodes/{node}/proxy/stats/summary"))
        .body(Vec::new())
    {
        Ok(r) => r,
        Err(e) => return (NodeResult::Failed(e.to_string()), None),
    };
    let failed = match tokio::time::timeout(timeout, target.client.request_text(req)).await {
        Err(_) => NodeResult::Failed(format!(
            "node {node}: no stats answer within {}",
            crate::rules::short_duration(timeout)
        )),
        Ok(Err(::kube::Error::Api(s))) if s.code == 403 => NodeResult::Forbidden,
        Ok(Err(e)) => {
            let op = Op {
                verb: "get",
                resource: "nodes/proxy",
                scope: &NamespaceScope::All,
                server: &target.cluster_url,
                user: target.user.as_deref(),
            };
            NodeResult::Failed(format!("node {node}: {}", errors::classify(&e, &op)))
        }
        Ok(Ok(text)) => {
            let hash = cache.hash(&text);
            let parsed = read_summary(node, &text, hash, cache.by_node.get(node));
            let result = match &parsed {
                Ok(entries) => NodeResult::Ok(entries.clone()),
                Err(why) => NodeResult::Failed(why.clone()),
            };
            return (result, Some((hash, parsed)));
        }
    };
    (failed, None)
}

/// Nodes running a pod (that still holds its volume) which mounts a claim.
pub fn usage_nodes(users: &BTreeMap<(String, String), Vec<ClaimUser>>) -> Vec<String> {
    let mut nodes: Vec<String> = users
        .values()
        .flatten()
        .filter(|u| !matches!(u.phase.as_deref(), Some("Succeeded") | Some("Failed")))
        .filter_map(|u| u.node.clone())
        .filter(|n| !n.is_empty())
        .collect();
    nodes.sort();
    nodes.dedup();
    nodes
}

/// One pass over `nodes`: each request under `timeout`, a few at a time.
pub async fn poll_usage(target: &KubeTarget, nodes: &[String], timeout: Duration) -> UsageMap {
    poll_usage_cached(target, nodes, timeout, &mut SummaryCache::default()).await
}

/// [`poll_usage`] for a poller that asks again and again: a node's body identical to its
/// previous one in `cache` is not parsed again; `cache` then holds this pass's bodies.
pub async fn poll_usage_cached(
    target: &KubeTarget,
    nodes: &[String],
    timeout: Duration,
    cache: &mut SummaryCache,
) -> UsageMap {
    let seen: &SummaryCache = cache;
    let answers: Vec<(String, NodeResult, Option<LastBody>)> =
        futures::stream::iter(nodes.iter().cloned())
            .map(|n| async move {
                let (r, body) = node_summary(target, &n, timeout, seen).await;
                (n, r, body)
            })
            .buffer_unordered(USAGE_CONCURRENCY)
            .collect()
            .await;
    let mut remembered = HashMap::with_capacity(answers.len());
    let mut results = Vec::with_capacity(answers.len());
    for (node, r, body) in answers {
        if let Some(b) = body {
            remembered.insert(node.clone(), b);
        }
        results.push((node, r));
    }
    cache.by_node = remembered;
    let mut map = UsageMap::default();
    let (mut forbidden, mut failed) = (0usize, 0usize);
    let mut first_error = None;
    for (node, r) in results {
        map.polled.insert(node.clone());
        match r {
            NodeResult::Ok(entries) => map.by_claim.extend(entries),
            NodeResult::Forbidden => {
                forbidden += 1;
                map.node_errors.insert(node, FORBIDDEN_PROXY.into());
            }
            NodeResult::Failed(why) => {
                failed += 1;
                first_error.get_or_insert_with(|| why.clone());
                map.node_errors.insert(node, why);
            }
        }
    }
    map.status = if nodes.is_empty() || forbidden + failed < nodes.len() {
        UsageStatus::Ok
    } else if forbidden > 0 {
        let who = target
            .user
            .as_deref()
            .map(|u| format!(" (user {u})"))
            .unwrap_or_default();
        UsageStatus::Unavailable {
            why: format!("{FORBIDDEN_PROXY}{who}"),
        }
    } else {
        UsageStatus::Unavailable {
            why: first_error.unwrap_or_else(|| "no node answered".into()),
        }
    };
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_identical_to_the_nodes_last_one_is_not_parsed_again() {
        let cache = SummaryCache::default();
        let body = r#"{"pods": [{"volume": [{"pvcRef": {"name": "c", "namespace": "n"},
                        "usedBytes": 5}]}]}"#;
        let fresh = read_summary("w1", body, cache.hash(body), None).expect("a summary");
        assert_eq!(fresh[0].1.used_bytes(), Some(5));
        let copy = String::from(body);
        assert_eq!(
            cache.hash(body),
            cache.hash(&copy),
            "bytes, not the pointer"
        );
        // What was remembered is answered without parsing: a planted result proves it.
        let planted: Parsed = Ok(vec![(
            ("n".into(), "c".into()),
            UsedSpace::unknown("planted"),
        )]);
        let last = (cache.hash(body), planted.clone());
        assert_eq!(
            read_summary("w1", body, cache.hash(body), Some(&last)),
            planted
        );
        // One byte different: parsed.
        let changed = body.replace('5', "6");
        let got = read_summary("w1", &changed, cache.hash(&changed), Some(&last)).expect("ok");
        assert_eq!(got[0].1.used_bytes(), Some(6));
        // An unreadable body's outcome (what is remembered for it) names the node.
        let bad = read_summary("w2", "{\"pods\": [", cache.hash("x"), None);
        assert!(
            bad.as_ref()
                .is_err_and(|e| e.starts_with("node w2: unreadable stats summary:")),
            "{bad:?}"
        );
    }
}
