//! Request routing: parses `/api/v1/...` and `/apis/GROUP/VERSION/...` paths into resource
//! requests, names the Kubernetes verb, and dispatches to the read, write, log, exec, proxy and
//! review handlers. Everything unknown gets a `Status` 404/405/501, never a hang.

pub mod exec_route;
pub mod logs;
pub mod pod_proxy;
pub mod protobuf;
pub mod proxy;
pub mod read;
pub mod reviews;
pub mod table;
pub mod write;

use super::discovery;
use super::resources::{ALL, Kind, ResourceInfo};
use super::server::SimState;
use super::status::{ApiError, json_response};
use axum::body::Body;
use http::{Method, Request, Response};
use std::sync::Arc;

/// The largest request body accepted (the apiserver's limit is 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Decodes a query string into ordered pairs (repeated keys are kept, e.g. `command=`).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub fn param_bool(params: &[(String, String)], key: &str) -> bool {
    matches!(param(params, key), Some("true" | "1" | "")) && params.iter().any(|(k, _)| k == key)
}

/// A path under a resource type.
#[derive(Debug, Clone)]
pub struct ResPath {
    pub info: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// Path segments after the subresource (node proxy paths).
    pub rest: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    SelfSubjectAccess,
    SelfSubject,
}

#[derive(Debug, Clone)]
pub enum Route {
    Version,
    Health,
    ApiVersions,
    GroupList,
    Group(String),
    ResourceList { group: String, version: String },
    Resource(ResPath),
    Review(Review),
    NotFound,
}

/// What the request log and the authorizer need to know about a request.
#[derive(Debug, Clone, Default)]
pub struct RouteInfo {
    pub verb: String,
    pub resource: String,
    pub resource_plural: String,
    pub group: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub is_resource: bool,
}

impl Route {
    pub fn info(&self) -> RouteInfo {
        match self {
            Route::Resource(p) => {
                let resource = match &p.sub {
                    Some(s) => format!("{}/{s}", p.info.plural),
                    None => p.info.plural.to_string(),
                };
                RouteInfo {
                    verb: String::new(),
                    resource,
                    resource_plural: p.info.plural.to_string(),
                    group: p.info.group.to_string(),
                    subresource: p.sub.clone(),
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    is_resource: true,
                }
            }
            Route::Review(r) => {
                let (plural, group) = match r {
                    Review::SelfSubjectAccess => {
                        ("selfsubjectaccessreviews", "authorization.k8s.io")
                    }
                    Review::SelfSubject => ("selfsubjectreviews", "authentication.k8s.io"),
                };
                RouteInfo {
                    verb: "create".into(),
                    resource: plural.into(),
                    resource_plural: plural.into(),
                    group: group.into(),
                    // Reviews are always allowed, as in real clusters.
                    is_resource: false,
                    ..RouteInfo::default()
                }
            }
            Route::NotFound => RouteInfo {
                verb: "nonresource".into(),
                ..RouteInfo::default()
            },
            _ => RouteInfo {
                verb: "discovery".into(),
                ..RouteInfo::default()
            },
        }
    }
}

fn verb_for(method: &Method, p: &ResPath, params: &[(String, String)]) -> String {
    let v = match (method.as_str(), &p.name, p.sub.as_deref()) {
        (_, Some(_), Some("exec")) => "create",
        ("GET", None, _) if param_bool(params, "watch") => "watch",
        ("GET", None, _) => "list",
        ("GET", Some(_), _) if param_bool(params, "watch") => "watch",
        ("GET", Some(_), _) => "get",
        ("POST", _, _) => "create",
        ("PUT", _, _) => "update",
        ("PATCH", _, _) => "patch",
        ("DELETE", None, _) => "deletecollection",
        ("DELETE", Some(_), _) => "delete",
        (m, _, _) => return m.to_ascii_lowercase(),
    };
    v.to_string()
}

/// Parses a request path.
pub fn route(method: &Method, path: &str, params: &[(String, String)]) -> RouteWithVerb {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let r = match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz"] => Route::Health,
        ["api"] => Route::ApiVersions,
        ["apis"] => Route::GroupList,
        ["apis", g] => Route::Group((*g).to_string()),
        ["api", v] => Route::ResourceList {
            group: String::new(),
            version: (*v).to_string(),
        },
        ["apis", g, v] => Route::ResourceList {
            group: (*g).to_string(),
            version: (*v).to_string(),
        },
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => Route::Review(Review::SelfSubjectAccess),
        [
            "apis",
            "authentication.k8s.io",
            "v1" | "v1beta1",
            "selfsubjectreviews",
        ] => Route::Review(Review::SelfSubject),
        ["api", "v1", rest @ ..] => resource_path("", rest),
        ["apis", g, "v1", rest @ ..] => resource_path(g, rest),
        _ => Route::NotFound,
    };
    let mut r = RouteWithVerb {
        route: r,
        verb: String::new(),
    };
    if let Route::Resource(p) = &r.route {
        r.verb = verb_for(method, p, params);
    }
    r
}

fn resource_path(group: &str, rest: &[&str]) -> Route {
    let namespaced_plural = |s: &str| {
        ALL.iter()
            .find(|r| r.group == group && r.plural == s && r.namespaced)
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_plural(plural).is_some() => {
            (Some((*ns).to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let Some((plural, tail)) = rest.split_first() else {
        return Route::NotFound;
    };
    let Some(kind) = Kind::from_plural(group, plural) else {
        return Route::NotFound;
    };
    let info = kind.info();
    if info.namespaced != namespace.is_some() && !(info.namespaced && tail.is_empty()) {
        // A namespaced resource without a namespace is only valid as a cluster-wide list.
        return Route::NotFound;
    }
    let name = tail.first().map(|s| (*s).to_string());
    let sub = tail.get(1).map(|s| (*s).to_string());
    if kind == Kind::Namespace
        && sub
            .as_deref()
            .is_some_and(|s| s != "status" && s != "finalize")
    {
        return Route::NotFound;
    }
    let rest = tail.iter().skip(2).map(|s| (*s).to_string()).collect();
    Route::Resource(ResPath {
        info,
        namespace,
        name,
        sub,
        rest,
    })
}

/// A parsed route with its Kubernetes verb.
#[derive(Debug, Clone)]
pub struct RouteWithVerb {
    pub route: Route,
    pub verb: String,
}

impl RouteWithVerb {
    pub fn info(&self) -> RouteInfo {
        let mut i = self.route.info();
        if !self.verb.is_empty() {
            i.verb = self.verb.clone();
        }
        i
    }
}

fn not_found_path() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// Whether the request body is Kubernetes protobuf (kubectl's typed clients send it).
pub fn is_protobuf(req: &Request<Body>) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/vnd.kubernetes.protobuf"))
}

/// Reads a request body with the size limit and a deadline.
pub async fn read_body(req: Request<Body>) -> Result<bytes_alias::Bytes, ApiError> {
    match tokio::time::timeout(
        std::time::Duration::from_secs(30),
        axum::body::to_bytes(req.into_body(), MAX_BODY),
    )
    .await
    {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) => Err(ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("request body could not be read: {e}"),
        )),
        Err(_) => Err(ApiError::new(
            408,
            "Timeout",
            "timed out reading the request body",
        )),
    }
}

pub mod bytes_alias {
    pub use axum::body::Bytes;
}

pub async fn dispatch(
    state: &Arc<SimState>,
    req: Request<Body>,
    route: RouteWithVerb,
    params: &[(String, String)],
) -> Response<Body> {
    let method = req.method().clone();
    let is_get = method == Method::GET;
    let crd_groups: Vec<&'static str> = state
        .store
        .lock()
        .crds
        .iter()
        .map(|k| k.info().group)
        .collect();
    let result: Result<Response<Body>, ApiError> = match route.route {
        Route::Version if is_get => Ok(json_response(200, &discovery::version())),
        Route::Health if is_get => Ok(super::status::bytes_response(
            200,
            "text/plain",
            b"ok".to_vec(),
        )),
        Route::ApiVersions if is_get => Ok(json_response(200, &discovery::api_versions())),
        Route::GroupList if is_get => {
            Ok(json_response(200, &discovery::api_group_list(&crd_groups)))
        }
        Route::Group(g) if is_get => discovery::api_group(&g, &crd_groups)
            .map(|v| json_response(200, &v))
            .ok_or_else(not_found_path),
        Route::ResourceList { group, version } if is_get => {
            discovery::resource_list(&group, &version, &crd_groups)
                .map(|v| json_response(200, &v))
                .ok_or_else(not_found_path)
        }
        Route::Review(r) if method == Method::POST => reviews::review(state, req, r).await,
        // A custom resource whose CRD is not installed: the apiserver does not know the path.
        Route::Resource(p) if p.info.kind.is_crd() && !crd_groups.contains(&p.info.group) => {
            Err(not_found_path())
        }
        Route::Resource(p) => resource(state, req, p, &route.verb, params).await,
        Route::NotFound => Err(not_found_path()),
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    };
    result.unwrap_or_else(ApiError::into_response)
}

async fn resource(
    state: &Arc<SimState>,
    req: Request<Body>,
    p: ResPath,
    verb: &str,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let accept = req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let as_table = table::wants_table(&accept);
    if is_protobuf(&req) {
        return Err(ApiError::unsupported_media_type(
            "application/vnd.kubernetes.protobuf",
        ));
    }
    match (p.sub.as_deref(), verb) {
        (None, "list") => read::list(state, &p, params, as_table),
        (None, "watch") => read::watch(state, &p, params, as_table),
        (None | Some("status"), "get") => read::get(state, &p, as_table),
        (None, "create") if p.name.is_none() => write::create(state, req, &p, params).await,
        (None | Some("status"), "update") if p.name.is_some() => {
            write::update(state, req, &p, params).await
        }
        (None | Some("status"), "patch") if p.name.is_some() => {
            write::patch(state, req, &p, params).await
        }
        (None, "delete") => write::delete(state, req, &p, params).await,
        (Some("log"), "get") if p.info.kind == Kind::Pod => logs::logs(state, &p, params),
        (Some("exec"), _) if p.info.kind == Kind::Pod => exec_route::exec(state, req, &p, params),
        (Some("proxy"), "get") if p.info.kind == Kind::Node => proxy::node_proxy(state, &p),
        (Some("proxy"), "get") if p.info.kind == Kind::Pod => pod_proxy::pod_proxy(state, &p).await,
        (
            Some(
                "attach"
                | "portforward"
                | "eviction"
                | "binding"
                | "ephemeralcontainers"
                | "resize",
            ),
            _,
        ) => Err(ApiError::not_implemented(format!(
            "{}/{} is not implemented by the ondeck simulated cluster",
            p.info.plural,
            p.sub.as_deref().unwrap_or("")
        ))),
        (Some(s), _) if !matches!(s, "status" | "log" | "exec" | "proxy") => Err(not_found_path()),
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str, q: &str) -> RouteWithVerb {
        route(&method, path, &parse_query(q))
    }

    #[test]
    fn routes_namespaced_and_cluster_paths() {
        let x = r(
            Method::GET,
            "/api/v1/namespaces/monitoring/persistentvolumeclaims/grafana-data",
            "",
        );
        let i = x.info();
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str()),
            ("get", "persistentvolumeclaims")
        );
        assert_eq!(i.namespace.as_deref(), Some("monitoring"));
        assert_eq!(i.name.as_deref(), Some("grafana-data"));

        let i = r(Method::GET, "/api/v1/pods", "watch=true").info();
        assert_eq!((i.verb.as_str(), i.namespace.clone()), ("watch", None));

        let i = r(Method::GET, "/api/v1/namespaces/monitoring", "").info();
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str(), i.name.as_deref()),
            ("get", "namespaces", Some("monitoring"))
        );

        let i = r(
            Method::POST,
            "/api/v1/namespaces/a/pods/p/exec",
            "command=ls",
        )
        .info();
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str()),
            ("create", "pods/exec")
        );

        let i = r(Method::GET, "/apis/storage.k8s.io/v1/storageclasses", "").info();
        assert_eq!(
            (i.verb.as_str(), i.group.as_str()),
            ("list", "storage.k8s.io")
        );

        assert!(matches!(
            r(Method::GET, "/api/v1/nodes/n1/proxy/stats/summary", "").route,
            Route::Resource(ResPath { sub: Some(_), .. })
        ));
        assert!(matches!(
            r(Method::GET, "/apis/apps/v1/deployments", "").route,
            Route::NotFound
        ));
        assert!(matches!(
            r(Method::GET, "/api/v1/namespaces/a/persistentvolumes", "").route,
            Route::NotFound
        ));
    }

    #[test]
    fn query_decoding() {
        let q = parse_query(
            "command=sh&command=-c&command=cat%20%2Fproc%2Fnet%2Ftcp&labelSelector=app%3Dx+y",
        );
        assert_eq!(q[2].1, "cat /proc/net/tcp");
        assert_eq!(q[3].1, "app=x y");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
