//! Used space per claim: the kubelet's stats summary of each node that runs a pod mounting a
//! claim, fetched through the API server's node proxy under the request deadline, parsed
//! leniently (a malformed volume entry is that volume's unknown, never the node's), and
//! gathered into a [`UsageMap`] the snapshot builder reads without waiting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::super::KubeTarget;
use super::super::errors::{self, Op};
use super::super::pods::ClaimUser;
use super::summary::{ClaimUsage, parse_summary_text};
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

/// A node name safe to put in a path (DNS subdomain characters only).
pub(super) fn path_safe(node: &str) -> bool {
    !node.is_empty()
        && node.len() <= 253
        && node
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

enum NodeResult {
    Ok(ClaimUsage),
    Forbidden,
    Failed(String),
}

/// What one stats summary body said: its claims' figures, or why it could not be read.
type Parsed = Result<ClaimUsage, String>;

/// A node's last body: the hash of its bytes, and what it said when that is kept.
#[derive(Debug)]
struct LastBody {
    hash: u64,
    /// Kept once a node answers the same bytes twice running (`None` for a body that differs
    /// from the one before it: most bodies, whose result then moves into the poll's map
    /// instead of being copied for a repeat that does not come).
    kept: Option<Arc<Parsed>>,
}

/// Each node's last stats summary body, as a hash of its bytes, with what parsing it gave once
/// the node repeats itself. A kubelet that serves the same document again and again (one that
/// measures nothing new in between) has it parsed twice, then answered from here until it
/// changes. Most bodies differ every time (a real kubelet's node CPU figures, the simulated
/// cluster's timestamp): those are parsed and their result is not copied. Only the nodes of
/// the last poll are kept (bounded by the node set); a node that did not answer with a body
/// this time is forgotten, so its next body is parsed.
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

/// `node`'s summary `body` (whose hash is `hash`) read, and what to remember of it: what
/// `last` (that node's previous body) kept when the bytes are the same, else parsed (and kept
/// when the bytes repeat the previous body's).
fn read_summary(node: &str, body: &str, hash: u64, last: Option<&LastBody>) -> (Parsed, LastBody) {
    let repeated = last.filter(|l| l.hash == hash);
    if let Some(kept) = repeated.and_then(|l| l.kept.as_ref()) {
        let remember = LastBody {
            hash,
            kept: Some(Arc::clone(kept)),
        };
        return ((**kept).clone(), remember);
    }
    let parsed = match parse_summary_text(body) {
        Ok(Some(entries)) => Ok(entries),
        Ok(None) => Err(format!(
            "node {node}: unreadable stats summary (no pods list)"
        )),
        Err(e) => Err(format!("node {node}: unreadable stats summary: {e}")),
    };
    let kept = repeated.map(|_| Arc::new(parsed.clone()));
    (parsed, LastBody { hash, kept })
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
            let (parsed, last) = read_summary(node, &text, hash, cache.by_node.get(node));
            let result = match parsed {
                Ok(entries) => NodeResult::Ok(entries),
                Err(why) => NodeResult::Failed(why),
            };
            return (result, Some(last));
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
    fn a_body_the_node_repeats_is_not_parsed_again() {
        let cache = SummaryCache::default();
        let body = r#"{"pods": [{"volume": [{"pvcRef": {"name": "c", "namespace": "n"},
                        "usedBytes": 5}]}]}"#;
        let h = cache.hash(body);
        let (fresh, first) = read_summary("w1", body, h, None);
        assert_eq!(fresh.expect("a summary")[0].1.used_bytes(), Some(5));
        // A body seen once is not copied (most bodies never come again).
        assert!(first.kept.is_none());
        let copy = String::from(body);
        assert_eq!(h, cache.hash(&copy), "bytes, not the pointer");
        // The same bytes again: parsed, and now kept.
        let (again, second) = read_summary("w1", body, h, Some(&first));
        assert_eq!(again.expect("a summary")[0].1.used_bytes(), Some(5));
        assert!(second.kept.is_some());
        // What was kept is answered without parsing: a planted result proves it.
        let planted: Parsed = Ok(vec![(
            ("n".into(), "c".into()),
            UsedSpace::unknown("planted"),
        )]);
        let last = LastBody {
            hash: h,
            kept: Some(Arc::new(planted.clone())),
        };
        let (got, remembered) = read_summary("w1", body, h, Some(&last));
        assert_eq!(got, planted);
        assert!(remembered.kept.is_some_and(|k| *k == planted));
        // One byte different: parsed, and the kept result is dropped.
        let changed = body.replace('5', "6");
        let (got, after) = read_summary("w1", &changed, cache.hash(&changed), Some(&last));
        assert_eq!(got.expect("ok")[0].1.used_bytes(), Some(6));
        assert!(after.kept.is_none());
        // An unreadable body's outcome (what is remembered for it) names the node.
        let (bad, _) = read_summary("w2", "{\"pods\": [", cache.hash("x"), None);
        assert!(
            bad.as_ref()
                .is_err_and(|e| e.starts_with("node w2: unreadable stats summary:")),
            "{bad:?}"
        );
    }
}
