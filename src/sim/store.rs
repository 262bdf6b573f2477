//! The object store: every object of the simulated cluster as real Kubernetes JSON, one global
//! resourceVersion counter (like etcd's revision), a bounded history of watch events and a
//! broadcast channel that feeds watch streams. All mutation goes through [`Inner`] while the
//! store's lock is held, so a watcher that subscribes under the lock never misses an event.

use super::resources::Kind;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, broadcast};

pub use axum::body::Bytes;

fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

/// `(namespace, name)`; namespace is empty for cluster-scoped objects.
pub type Key = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as retained in the history and sent to watchers.
#[derive(Debug, Clone)]
pub struct StoreEvent {
    pub kind: Kind,
    pub ty: EventType,
    pub rv: u64,
    pub object: Arc<Value>,
    /// `object` serialized once, shared by every watcher.
    pub json: Bytes,
    /// The object before a modification (to turn selector transitions into ADDED/DELETED).
    pub prev: Option<Arc<Value>>,
}

/// One log line of a container.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub at: Timestamp,
    pub line: String,
}

/// A container's current and previous (before its last restart) logs, bounded.
#[derive(Debug, Clone, Default)]
pub struct ContainerLogs {
    pub current: VecDeque<(Timestamp, String)>,
    pub previous: Option<Vec<(Timestamp, String)>>,
}

pub const MAX_LOG_LINES: usize = 10_000;

/// The watch history is too old for the requested resourceVersion.
#[derive(Debug, Clone, Copy)]
pub struct TooOld {
    pub requested: u64,
    pub oldest: u64,
}

/// Retained events newer than the requested version, and the live feed after them.
pub type Subscription = (Vec<Arc<StoreEvent>>, broadcast::Receiver<Arc<StoreEvent>>);

pub struct Store {
    inner: Mutex<Inner>,
}

pub struct Inner {
    rv: u64,
    objects: HashMap<Kind, BTreeMap<Key, Arc<Value>>>,
    /// Each stored object serialized once per write, so lists are a concatenation.
    serialized: HashMap<Kind, HashMap<Key, Bytes>>,
    history: VecDeque<Arc<StoreEvent>>,
    history_cap: usize,
    /// Events with rv <= this are no longer retained.
    compacted_rv: u64,
    tx: broadcast::Sender<Arc<StoreEvent>>,
    log_tx: broadcast::Sender<Arc<LogLine>>,
    changed: Arc<Notify>,
    pub logs: HashMap<(String, String, String), ContainerLogs>,
    /// Scenario-defined files visible to exec, per `(namespace, pod)`.
    pub exec_files: HashMap<Key, BTreeMap<String, String>>,
    /// Pods waiting for the simulated kubelet to start them, with when they were created.
    pub pending_starts: HashMap<Key, std::time::Instant>,
    /// Pods removed while owned by a ReplicaSet, StatefulSet or DaemonSet: their controller
    /// makes a replacement.
    pub replace_pods: Vec<Arc<Value>>,
    /// Custom resource kinds whose CRD is installed (served; others answer 404).
    pub crds: std::collections::BTreeSet<Kind>,
}

/// Capacity of the broadcast channel shared by all watch streams: a watcher more than this
/// many events behind is dropped with a 410 error instead of being buffered forever.
pub const WATCH_CHANNEL_CAPACITY: usize = 4096;

impl Store {
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(WATCH_CHANNEL_CAPACITY);
        let (log_tx, _) = broadcast::channel(1024);
        Store {
            inner: Mutex::new(Inner {
                rv: 1,
                objects: HashMap::new(),
                serialized: HashMap::new(),
                history: VecDeque::new(),
                history_cap: history_cap.max(1),
                compacted_rv: 1,
                tx,
                log_tx,
                changed: Arc::new(Notify::new()),
                logs: HashMap::new(),
                exec_files: HashMap::new(),
                pending_starts: HashMap::new(),
                replace_pods: Vec::new(),
                crds: Default::default(),
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn key_of(v: &Value) -> Key {
    (
        meta_str(v, "namespace").to_string(),
        meta_str(v, "name").to_string(),
    )
}

/// A string field of `metadata`, or "".
pub fn meta_str<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn finalizers(v: &Value) -> Vec<String> {
    v.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn is_deleting(v: &Value) -> bool {
    v.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// Kubernetes time format (seconds precision, `Z`).
pub fn k8s_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn now_str() -> String {
    k8s_time(Timestamp::now())
}

/// A random RFC 4122-looking uid.
pub fn new_uid() -> String {
    let h = |n: usize| {
        (0..n)
            .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
            .collect::<String>()
    };
    format!("{}-{}-4{}-a{}-{}", h(8), h(4), h(3), h(3), h(12))
}

fn set_meta(v: &mut Value, field: &str, value: Value) {
    if let Some(obj) = v.as_object_mut() {
        let meta = obj.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(field.to_string(), value);
        }
    }
}

impl Inner {
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn compacted_rv(&self) -> u64 {
        self.compacted_rv
    }

    pub fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(&kind)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// All objects of a kind, ordered by namespace then name; `ns` restricts to one namespace.
    pub fn list(&self, kind: Kind, ns: Option<&str>) -> Vec<Arc<Value>> {
        let Some(map) = self.objects.get(&kind) else {
            return Vec::new();
        };
        match ns {
            Some(ns) => map
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => map.values().cloned().collect(),
        }
    }

    /// Objects after `after` (exclusive) in key order, for paginated lists.
    pub fn list_after(&self, kind: Kind, ns: Option<&str>, after: &Key) -> Vec<Arc<Value>> {
        let Some(map) = self.objects.get(&kind) else {
            return Vec::new();
        };
        use std::ops::Bound;
        map.range((Bound::Excluded(after.clone()), Bound::Unbounded))
            .filter(|((n, _), _)| ns.is_none_or(|ns| ns == n))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The stored object's JSON, serialized when it was written.
    pub fn json_of(&self, kind: Kind, key: &Key) -> Option<Bytes> {
        self.serialized.get(&kind)?.get(key).cloned()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.objects.get(&kind).map_or(0, BTreeMap::len)
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn emit(
        &mut self,
        kind: Kind,
        ty: EventType,
        object: Arc<Value>,
        json: Bytes,
        prev: Option<Arc<Value>>,
    ) {
        let ev = Arc::new(StoreEvent {
            kind,
            ty,
            rv: self.rv,
            object,
            json,
            prev,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        let _ = self.tx.send(ev);
        self.changed.notify_waiters();
    }

    /// Stores a new object (uid, creationTimestamp and resourceVersion are filled in when
    /// missing) and emits ADDED.
    pub fn insert(&mut self, kind: Kind, mut v: Value) -> Arc<Value> {
        let rv = self.next_rv();
        if meta_str(&v, "uid").is_empty() {
            set_meta(&mut v, "uid", json!(new_uid()));
        }
        if meta_str(&v, "creationTimestamp").is_empty() {
            set_meta(&mut v, "creationTimestamp", json!(now_str()));
        }
        set_meta(&mut v, "resourceVersion", json!(rv.to_string()));
        let key = key_of(&v);
        let json = to_bytes(&v);
        let v = Arc::new(v);
        self.serialized
            .entry(kind)
            .or_default()
            .insert(key.clone(), json.clone());
        self.objects.entry(kind).or_default().insert(key, v.clone());
        self.emit(kind, EventType::Added, v.clone(), json, None);
        v
    }

    /// Replaces an existing object and emits MODIFIED; an object being deleted whose last
    /// finalizer is gone is removed instead (DELETED), as the apiserver does, unless it is in
    /// a grace period (a pod the kubelet is still stopping).
    pub fn update(&mut self, kind: Kind, mut v: Value) -> Arc<Value> {
        let graceful = v
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            > 0;
        // A namespace waits for its content (its finalizer lives in `spec.finalizers`).
        let spec_finalizers = v
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if is_deleting(&v) && finalizers(&v).is_empty() && !graceful && !spec_finalizers {
            let (ns, name) = key_of(&v);
            if let Some(gone) = self.remove(kind, &ns, &name) {
                return gone;
            }
        }
        let rv = self.next_rv();
        set_meta(&mut v, "resourceVersion", json!(rv.to_string()));
        let key = key_of(&v);
        let json = to_bytes(&v);
        let v = Arc::new(v);
        self.serialized
            .entry(kind)
            .or_default()
            .insert(key.clone(), json.clone());
        let prev = self.objects.entry(kind).or_default().insert(key, v.clone());
        let ty = if prev.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.emit(kind, ty, v.clone(), json, prev);
        v
    }

    /// Applies `f` to a copy of the object and stores it if it changed. Returns the new object.
    pub fn modify(
        &mut self,
        kind: Kind,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Option<Arc<Value>> {
        let cur = self.get(kind, ns, name)?;
        let mut next = (*cur).clone();
        f(&mut next);
        if next == *cur {
            return Some(cur);
        }
        Some(self.update(kind, next))
    }

    /// Removes an object for good and emits DELETED (with the deletion's resourceVersion).
    pub fn remove(&mut self, kind: Kind, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self
            .objects
            .get_mut(&kind)?
            .remove(&(ns.to_string(), name.to_string()))?;
        let rv = self.next_rv();
        let mut v = (*old).clone();
        set_meta(&mut v, "resourceVersion", json!(rv.to_string()));
        if let Some(m) = self.serialized.get_mut(&kind) {
            m.remove(&(ns.to_string(), name.to_string()));
        }
        let json = to_bytes(&v);
        let v = Arc::new(v);
        self.emit(kind, EventType::Deleted, v.clone(), json, Some(old.clone()));
        if kind == Kind::Pod {
            self.logs.retain(|(n, p, _), _| !(n == ns && p == name));
            self.exec_files.remove(&(ns.to_string(), name.to_string()));
            self.pending_starts
                .remove(&(ns.to_string(), name.to_string()));
            let owned = old
                .pointer("/metadata/ownerReferences/0/kind")
                .and_then(Value::as_str)
                .is_some_and(|k| matches!(k, "ReplicaSet" | "StatefulSet" | "DaemonSet"));
            if owned {
                self.replace_pods.push(old.clone());
            }
        }
        Some(v)
    }

    /// Forgets all watch history (the next watch from an older version gets 410 Gone).
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    /// Subscribes to future events and returns the retained events of `kind` newer than
    /// `from_rv`, atomically.
    pub fn subscribe(&self, kind: Kind, from_rv: u64) -> Result<Subscription, TooOld> {
        if from_rv < self.compacted_rv {
            return Err(TooOld {
                requested: from_rv,
                oldest: self.compacted_rv,
            });
        }
        let backlog = self
            .history
            .iter()
            .filter(|e| e.rv > from_rv && e.kind == kind)
            .cloned()
            .collect();
        Ok((backlog, self.tx.subscribe()))
    }

    pub fn subscribe_logs(&self) -> broadcast::Receiver<Arc<LogLine>> {
        self.log_tx.subscribe()
    }

    /// Appends a line to a container's current log and notifies followers.
    pub fn append_log(
        &mut self,
        ns: &str,
        pod: &str,
        container: &str,
        at: Timestamp,
        line: String,
    ) {
        let logs = self
            .logs
            .entry((ns.to_string(), pod.to_string(), container.to_string()))
            .or_default();
        logs.current.push_back((at, line.clone()));
        while logs.current.len() > MAX_LOG_LINES {
            logs.current.pop_front();
        }
        let _ = self.log_tx.send(Arc::new(LogLine {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            at,
            line,
        }));
    }

    /// The container restarted: current logs become the previous ones.
    pub fn rotate_logs(&mut self, ns: &str, pod: &str, container: &str) {
        let logs = self
            .logs
            .entry((ns.to_string(), pod.to_string(), container.to_string()))
            .or_default();
        logs.previous = Some(logs.current.drain(..).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": ns, "name": name}})
    }

    #[test]
    fn resource_version_is_global_and_monotonic() {
        let store = Store::new(100);
        let mut s = store.lock();
        let a = s.insert(Kind::Pod, pod("a", "p1"));
        let b = s.insert(Kind::PersistentVolume, json!({"metadata": {"name": "pv1"}}));
        let ra: u64 = meta_str(&a, "resourceVersion").parse().unwrap_or(0);
        let rb: u64 = meta_str(&b, "resourceVersion").parse().unwrap_or(0);
        assert!(rb > ra && ra > 1);
        assert!(!meta_str(&a, "uid").is_empty());
    }

    #[test]
    fn history_is_bounded_and_reports_too_old() {
        let store = Store::new(3);
        let mut s = store.lock();
        for i in 0..10 {
            s.insert(Kind::Pod, pod("a", &format!("p{i}")));
        }
        assert!(s.subscribe(Kind::Pod, 2).is_err());
        let rv = s.resource_version();
        match s.subscribe(Kind::Pod, rv - 2) {
            Ok((backlog, _rx)) => assert_eq!(backlog.len(), 2),
            Err(e) => panic!("recent history must be retained: {e:?}"),
        }
    }

    #[test]
    fn removing_last_finalizer_of_deleting_object_deletes_it() {
        let store = Store::new(100);
        let mut s = store.lock();
        let mut v = pod("a", "p");
        v["metadata"]["finalizers"] = json!(["x"]);
        v["metadata"]["deletionTimestamp"] = json!(now_str());
        s.insert(Kind::Pod, v);
        s.modify(Kind::Pod, "a", "p", |v| {
            v["metadata"]["finalizers"] = json!([])
        });
        assert!(s.get(Kind::Pod, "a", "p").is_none());
    }

    #[test]
    fn namespaced_list_is_restricted() {
        let store = Store::new(100);
        let mut s = store.lock();
        s.insert(Kind::Pod, pod("a", "p1"));
        s.insert(Kind::Pod, pod("b", "p2"));
        s.insert(Kind::Pod, pod("ab", "p3"));
        assert_eq!(s.list(Kind::Pod, Some("a")).len(), 1);
        assert_eq!(s.list(Kind::Pod, None).len(), 3);
    }
}
