//! Pod exec of the simulated cluster, driven by the real kube client over a real socket: a
//! small axum router serves `/api/v1/namespaces/{ns}/pods/{pod}/exec` with `exec_response`,
//! each pod name mapping to fixed mounts over temp-dir volumes.

use axum::extract::{Path as UrlPath, Request, State};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, AttachedProcess};
use ondeck::sim::exec::{ExecQuery, ExecRequest, Mount, commands_running, exec_response};
use ondeck::sim::volumes::{GeneratedFiles, VolumeContents, VolumeFile, VolumeStore};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TCP_FILE: &str =
    "  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A\n";

/// Tests share the process-wide running-command counter: run them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Clone)]
struct PodSpec {
    mounts: Vec<Mount>,
    break_after_bytes: Option<u64>,
    /// Pretend to be a server that only speaks v4.
    v4_only: bool,
}

struct Sim {
    client: kube::Client,
    addr: std::net::SocketAddr,
    store: VolumeStore,
    _server: tokio::task::JoinHandle<()>,
}

impl Sim {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }
    fn volume(&self, pv: &str) -> PathBuf {
        self.store.path(pv).expect("volume exists")
    }
}

fn source_contents() -> VolumeContents {
    VolumeContents {
        files: vec![
            VolumeFile {
                path: "grafana.ini".into(),
                text: Some("[server]\nhttp_port = 3000\n".into()),
                size: None,
                seed: 0,
            },
            VolumeFile {
                path: "data/grafana.db".into(),
                text: None,
                size: Some(3 * 1024 * 1024 + 17),
                seed: 9,
            },
            VolumeFile {
                path: "data/empty".into(),
                text: None,
                size: Some(0),
                seed: 0,
            },
        ],
        generate: Some(GeneratedFiles {
            dir: "plugins/bulk".into(),
            count: 40,
            size: 70_000,
            seed: 4,
        }),
    }
}

async fn exec_handler(
    State(pods): State<Arc<HashMap<String, PodSpec>>>,
    UrlPath((_ns, pod)): UrlPath<(String, String)>,
    mut req: Request,
) -> axum::response::Response {
    let Some(spec) = pods.get(&pod).cloned() else {
        return axum::response::IntoResponse::into_response((
            http::StatusCode::NOT_FOUND,
            "no such pod",
        ));
    };
    if spec.v4_only {
        req.headers_mut().insert(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            http::HeaderValue::from_static("v4.channel.k8s.io"),
        );
    }
    let query = ExecQuery::parse(req.uri().query().unwrap_or(""));
    let exec = ExecRequest {
        mounts: spec.mounts,
        files: BTreeMap::from([("/proc/net/tcp".to_owned(), TCP_FILE.to_owned())]),
        break_after_bytes: spec.break_after_bytes,
        ..query.into_request()
    };
    exec_response(&mut req, exec)
}

async fn json(v: serde_json::Value) -> axum::Json<serde_json::Value> {
    axum::Json(v)
}

/// Just enough of a Pod for `kubectl exec` to pick the container.
async fn pod_handler(
    UrlPath((ns, pod)): UrlPath<(String, String)>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": pod, "namespace": ns, "uid": "0b6e3f5e-0000-4000-8000-000000000001"},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
        "status": {"phase": "Running"}
    }))
}

async fn start() -> Sim {
    let store = VolumeStore::new_temp().unwrap();
    let a = store.create("pv-a", &source_contents()).unwrap();
    let b = store.create_empty("pv-b").unwrap();
    let mount = |path: &str, dir: &Path, read_only| Mount {
        mount_path: path.into(),
        host_dir: dir.to_path_buf(),
        read_only,
    };
    let pods = HashMap::from([
        (
            "grafana".to_owned(),
            PodSpec {
                mounts: vec![mount("/var/lib/grafana", &a, false)],
                break_after_bytes: None,
                v4_only: false,
            },
        ),
        (
            "helper".to_owned(),
            PodSpec {
                mounts: vec![mount("/restore", &b, false), mount("/backup-src", &a, true)],
                break_after_bytes: None,
                v4_only: false,
            },
        ),
        (
            "flaky".to_owned(),
            PodSpec {
                mounts: vec![mount("/data", &a, true)],
                break_after_bytes: Some(100_000),
                v4_only: false,
            },
        ),
        (
            "old".to_owned(),
            PodSpec {
                mounts: vec![mount("/data", &a, true)],
                break_after_bytes: None,
                v4_only: true,
            },
        ),
    ]);
    let app = axum::Router::new()
        .route("/api/v1/namespaces/{ns}/pods/{pod}/exec", axum::routing::any(exec_handler))
        .route("/api/v1/namespaces/{ns}/pods/{pod}", axum::routing::get(pod_handler))
        .route("/version", axum::routing::get(|| json(serde_json::json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0-sim"}))))
        .route("/api", axum::routing::get(|| json(serde_json::json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))))
        .route("/apis", axum::routing::get(|| json(serde_json::json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}))))
        .route("/api/v1", axum::routing::get(|| json(serde_json::json!({
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
            "resources": [
                {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get", "list"], "shortNames": ["po"]},
                {"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]}
            ]
        }))))
        .fallback(|req: Request| async move {
            eprintln!("sim_exec test router: no route for {} {}", req.method(), req.uri());
            http::StatusCode::NOT_FOUND
        })
        .with_state(Arc::new(pods));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    Sim {
        client,
        addr,
        store,
        _server: server,
    }
}

/// sha256 of every regular file under `root`, keyed by relative path.
fn digests(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let hash: String = Sha256::digest(std::fs::read(&p).unwrap())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.insert(
                    p.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                    hash,
                );
            }
        }
    }
    out
}

struct Outcome {
    stdout: Vec<u8>,
    stderr: String,
    status: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>,
}

impl Outcome {
    fn exit_code(&self) -> Option<i32> {
        let s = self.status.as_ref()?;
        if s.status.as_deref() == Some("Success") {
            return Some(0);
        }
        let causes = s.details.as_ref()?.causes.as_ref()?;
        causes
            .iter()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))?
            .message
            .as_ref()?
            .parse()
            .ok()
    }
}

/// Runs a command with stdout and stderr, reading both to the end, then takes the status.
async fn run(api: &Api<Pod>, pod: &str, command: &[&str]) -> Outcome {
    let ap = AttachParams::default()
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(1 << 20);
    let mut p = api
        .exec(
            pod,
            command.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &ap,
        )
        .await
        .unwrap();
    finish(&mut p).await
}

/// Reads stdout and stderr until the command's status arrives (or the connection breaks),
/// then drains what is buffered. kube's readers only see EOF after a status: on a broken
/// stream they stay pending, so a client must watch the status, as this does.
async fn finish(p: &mut AttachedProcess) -> Outcome {
    let mut out = p.stdout().unwrap();
    let mut err = p.stderr().unwrap();
    let status = p.take_status().unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = {
        let reads = async {
            let (a, b) = tokio::join!(out.read_to_end(&mut stdout), err.read_to_end(&mut stderr));
            a.unwrap();
            b.unwrap();
        };
        tokio::pin!(reads);
        tokio::pin!(status);
        tokio::select! {
            s = &mut status => {
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut reads).await;
                s
            }
            () = &mut reads => tokio::time::timeout(Duration::from_secs(10), &mut status).await.unwrap(),
        }
    };
    Outcome {
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
    }
}

#[tokio::test]
async fn tar_round_trip_between_volumes_streams_through_two_execs() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let api = sim.pods();
    let out_ap = AttachParams::default()
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(1 << 20);
    let mut backup = api
        .exec(
            "grafana",
            ["tar", "czf", "-", "-C", "/var/lib/grafana", "."],
            &out_ap,
        )
        .await
        .unwrap();
    let in_ap = AttachParams::default()
        .stdin(true)
        .stdout(true)
        .stderr(true)
        .max_stdin_buf_size(1 << 20);
    let restore_cmd = ["sh", "-c", "tar xzf - -C /restore && echo restored"];
    let mut restore = api.exec("helper", restore_cmd, &in_ap).await.unwrap();

    let mut archive = backup.stdout().unwrap();
    let mut sink = restore.stdin().unwrap();
    let backup_status = backup.take_status().unwrap();
    let mut backup_err = backup.stderr().unwrap();
    let pump = async {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = archive.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            sink.write_all(&buf[..n]).await.unwrap();
            total += n as u64;
        }
        sink.shutdown().await.unwrap();
        drop(sink);
        total
    };
    let mut err_text = String::new();
    let (total, _) = tokio::join!(pump, backup_err.read_to_string(&mut err_text));
    assert!(total > 3 * 1024 * 1024, "archive of {total} bytes");
    assert_eq!(err_text, "");
    let status = backup_status.await.expect("backup status");
    assert_eq!(status.status.as_deref(), Some("Success"));

    let restored = finish(&mut restore).await;
    assert_eq!(
        (restored.exit_code(), restored.stderr.as_str()),
        (Some(0), "")
    );
    assert_eq!(restored.stdout, b"restored\n");
    let (src, dst) = (digests(&sim.volume("pv-a")), digests(&sim.volume("pv-b")));
    assert_eq!(src.len(), 43);
    assert_eq!(src, dst);
}

#[tokio::test]
async fn extract_into_a_read_only_mount_is_refused() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let api = sim.pods();
    let archive = run(
        &api,
        "grafana",
        &["tar", "-C", "/var/lib/grafana", "-czf", "-", "grafana.ini"],
    )
    .await;
    assert_eq!(archive.exit_code(), Some(0));
    let ap = AttachParams::default()
        .stdin(true)
        .stdout(true)
        .stderr(true);
    let mut p = api
        .exec("helper", ["tar", "xzf", "-", "-C", "/backup-src"], &ap)
        .await
        .unwrap();
    let mut stdin = p.stdin().unwrap();
    // The command may refuse before reading everything: a failed write is fine here.
    let _ = stdin.write_all(&archive.stdout).await;
    drop(stdin);
    let o = finish(&mut p).await;
    assert_eq!(o.exit_code(), Some(2));
    assert!(
        o.stderr
            .contains("/backup-src: Cannot open: Read-only file system"),
        "{}",
        o.stderr
    );
    let status = o.status.unwrap();
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    assert_eq!(digests(&sim.volume("pv-a")).len(), 43);
}

#[tokio::test]
async fn cat_of_a_scenario_file_and_listing() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let api = sim.pods();
    let o = run(&api, "grafana", &["sh", "-c", "cat /proc/net/tcp"]).await;
    assert_eq!(
        (o.exit_code(), o.stdout.as_slice(), o.stderr.as_str()),
        (Some(0), TCP_FILE.as_bytes(), "")
    );
    let o = run(
        &api,
        "grafana",
        &["du", "-sb", "/var/lib/grafana/data/grafana.db"],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "{}\t/var/lib/grafana/data/grafana.db\n",
            3 * 1024 * 1024 + 17
        )
    );
    let o = run(
        &api,
        "grafana",
        &["sh", "-c", "find /var/lib/grafana -type f | wc -l"],
    )
    .await;
    assert_eq!(o.stdout, b"43\n");
    let o = run(&api, "grafana", &["ls", "/var/lib/grafana"]).await;
    assert_eq!(o.stdout, b"data\ngrafana.ini\nplugins\n");
    let o = run(&api, "grafana", &["cat", "/etc/passwd"]).await;
    assert_eq!(
        (o.exit_code(), o.stderr.as_str()),
        (Some(1), "cat: /etc/passwd: No such file or directory\n")
    );
}

#[tokio::test]
async fn unknown_command_exits_127_through_the_status() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let o = run(&sim.pods(), "grafana", &["pg_dump", "--all"]).await;
    assert_eq!(o.exit_code(), Some(127));
    assert_eq!(o.stderr, "sh: pg_dump: not found\n");
    let status = o.status.unwrap();
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
}

#[tokio::test]
async fn broken_stream_fault_gives_no_status() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let ap = AttachParams::default()
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(1 << 20);
    let mut p = sim
        .pods()
        .exec("flaky", ["tar", "czf", "-", "-C", "/data", "."], &ap)
        .await
        .unwrap();
    let o = finish(&mut p).await;
    assert!(
        o.status.is_none(),
        "a broken stream must not report an exit status"
    );
    assert_eq!(o.stdout.len(), 100_000);
    assert!(
        p.join().await.is_err(),
        "the client must see a broken stream"
    );
    let mut gz = flate2::read::GzDecoder::new(&o.stdout[..]);
    assert!(
        std::io::copy(&mut gz, &mut std::io::sink()).is_err(),
        "the archive is truncated"
    );
}

#[tokio::test]
async fn v4_protocol_fallback_still_reports_exit_codes() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let api = sim.pods();
    let o = run(&api, "old", &["cat", "/proc/net/tcp"]).await;
    assert_eq!(
        (o.exit_code(), o.stdout.as_slice()),
        (Some(0), TCP_FILE.as_bytes())
    );
    let o = run(&api, "old", &["sh", "-c", "test -d /nowhere"]).await;
    assert_eq!(o.exit_code(), Some(1));
}

#[tokio::test]
async fn client_going_away_stops_the_command() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    let api = sim.pods();
    let before = commands_running();
    let p = api
        .exec("grafana", ["sleep", "300"], &AttachParams::default())
        .await
        .unwrap();
    let started = wait_for(|| commands_running() > before).await;
    assert!(started, "the command never started");
    p.abort();
    drop(p);
    assert!(
        wait_for(|| commands_running() == before).await,
        "sleep kept running after the client left"
    );

    // And a big stream that nobody reads any more.
    let ap = AttachParams::default().stdout(true).stderr(true);
    let mut p = api
        .exec("grafana", ["tar", "cf", "-", "/var/lib/grafana"], &ap)
        .await
        .unwrap();
    let mut out = p.stdout().unwrap();
    let mut first = [0u8; 1024];
    out.read_exact(&mut first).await.unwrap();
    drop(out);
    drop(p);
    assert!(
        wait_for(|| commands_running() == before).await,
        "tar kept running after the client left"
    );
}

async fn wait_for(cond: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond()
}

#[tokio::test]
async fn refusals_are_kubernetes_status_errors() {
    let _serial = SERIAL.lock().await;
    let sim = start().await;
    // kube surfaces the 400 Status body.
    let empty: Vec<String> = Vec::new();
    match sim
        .pods()
        .exec("grafana", empty, &AttachParams::default())
        .await
    {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 400);
            assert!(s.message.contains("at least one command"), "{}", s.message);
        }
        Err(other) => panic!("expected a Status error, got {other}"),
        Ok(_) => panic!("an exec without a command must be refused"),
    }

    // A subprotocol we do not speak.
    let url = format!(
        "ws://{}/api/v1/namespaces/default/pods/grafana/exec?command=true&stdout=true",
        sim.addr
    );
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        url.as_str(),
    )
    .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("base64.channel.k8s.io"),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), http::StatusCode::BAD_REQUEST);
            let body =
                String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned();
            assert!(
                body.contains("\"kind\":\"Status\"") && body.contains("not supported"),
                "{body}"
            );
        }
        Err(other) => panic!("expected HTTP 400, got {other}"),
        Ok(_) => panic!("base64.channel.k8s.io must be refused"),
    }

    // A plain GET, not an upgrade.
    let mut tcp = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    let get = "GET /api/v1/namespaces/default/pods/grafana/exec?command=ls&stdout=true HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n";
    tcp.write_all(get.as_bytes()).await.unwrap();
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("Upgrade request required"), "{resp}");

    // And a raw v5 client sees the channel framing exactly.
    let url = format!(
        "ws://{}/api/v1/namespaces/default/pods/grafana/exec?command=echo&command=hi&stdout=true&stderr=true",
        sim.addr
    );
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        url.as_str(),
    )
    .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("v5.channel.k8s.io"),
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "v5.channel.k8s.io"
    );
    let mut frames = Vec::new();
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            tokio_tungstenite::tungstenite::Message::Binary(b) => frames.push(b.to_vec()),
            tokio_tungstenite::tungstenite::Message::Close(_) => break,
            _ => {}
        }
    }
    assert_eq!(frames[0], vec![1u8], "hello frame on stdout");
    assert_eq!(frames[1], b"\x01hi\n".to_vec());
    assert_eq!(frames[2][0], 3);
    let status: serde_json::Value = serde_json::from_slice(&frames[2][1..]).unwrap();
    assert_eq!(
        status,
        serde_json::json!({"metadata": {}, "status": "Success"})
    );
}

/// kubectl (client-go's WebSocket executor, v5) against the same handler, when installed.
#[tokio::test]
async fn kubectl_exec_works_against_the_handler() {
    let _serial = SERIAL.lock().await;
    let Ok(kubectl) = which_kubectl() else {
        eprintln!("kubectl not installed: skipping");
        return;
    };
    let sim = start().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: http://{}\ncontexts:\n- name: sim\n  context:\n    cluster: sim\n    user: u\n    namespace: default\ncurrent-context: sim\nusers:\n- name: u\n  user:\n    token: t\n",
        sim.addr
    );
    std::fs::write(&kubeconfig, config).unwrap();
    let run = |args: &[&str], stdin: Vec<u8>| {
        let kubectl = kubectl.clone();
        let kubeconfig = kubeconfig.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move {
            let mut child = tokio::process::Command::new(kubectl)
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(&args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut input = child.stdin.take().unwrap();
            let feed = async move {
                let _ = input.write_all(&stdin).await;
                drop(input);
            };
            let (out, ()) = tokio::join!(
                tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()),
                feed
            );
            out.unwrap().unwrap()
        }
    };
    let out = run(&["exec", "grafana", "--", "cat", "/proc/net/tcp"], vec![]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, TCP_FILE.as_bytes());

    let out = run(&["exec", "grafana", "--", "nosuch"], vec![]).await;
    assert_eq!(
        out.status.code(),
        Some(127),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("sh: nosuch: not found"));

    let backup = run(
        &[
            "exec",
            "grafana",
            "--",
            "tar",
            "czf",
            "-",
            "-C",
            "/var/lib/grafana",
            ".",
        ],
        vec![],
    )
    .await;
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let restore = run(
        &[
            "exec", "-i", "helper", "--", "tar", "xzf", "-", "-C", "/restore",
        ],
        backup.stdout,
    )
    .await;
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    assert_eq!(digests(&sim.volume("pv-a")), digests(&sim.volume("pv-b")));
}

fn which_kubectl() -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .ok_or(())
}
