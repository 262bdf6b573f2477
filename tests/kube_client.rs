//! kubeconfig resolution with kubectl's precedence and merge rules, namespace scope, context
//! override, clear errors, and the client certificate's expiry.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use ondeck::config::KubernetesConfig;
use ondeck::domain::pods::NamespaceScope;
use ondeck::sources::SourceError;
use ondeck::sources::kube::client::{ConfigOrigin, resolve};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const A: &str = "apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
contexts:
- name: prod
  context:
    cluster: prod
    user: alice
    namespace: shop
- name: shared
  context:
    cluster: prod
    user: alice
    namespace: from-a
users:
- name: alice
  user:
    token: t
";

const B: &str = "apiVersion: v1
kind: Config
current-context: staging
clusters:
- name: staging
  cluster:
    server: https://staging.example:6443
contexts:
- name: staging
  context:
    cluster: staging
    user: bob
- name: shared
  context:
    cluster: staging
    user: bob
    namespace: from-b
users:
- name: bob
  user:
    token: t
";

fn env_list(paths: &[&Path]) -> KubeEnv {
    KubeEnv {
        kubeconfig: Some(std::env::join_paths(paths).expect("join")),
        home: None,
        in_cluster: false,
    }
}

#[test]
fn kubeconfig_env_merges_first_wins_and_skips_missing_files() {
    let d = tempfile::tempdir().expect("tempdir");
    let a = write(d.path(), "a", A);
    let b = write(d.path(), "b", B);
    let missing = d.path().join("missing");
    let env = env_list(&[&missing, &a, &b]);
    let r = resolve(&TargetArgs::default(), &env).expect("resolves");
    // current-context from the first file that sets it; missing file ignored like kubectl.
    assert_eq!(r.context, "prod");
    assert_eq!(r.scope, NamespaceScope::One("shop".into()));
    assert_eq!(r.origin, ConfigOrigin::Files(vec![a.clone(), b.clone()]));
    // A context from the second file is reachable with --context.
    let r = resolve(
        &TargetArgs {
            context: Some("staging".into()),
            ..Default::default()
        },
        &env,
    )
    .expect("resolves");
    assert_eq!(r.user.as_deref(), Some("bob"));
    // No namespace in the context: "default".
    assert_eq!(r.scope, NamespaceScope::One("default".into()));
    // "shared" is defined in both: the first file's definition wins.
    let r = resolve(
        &TargetArgs {
            context: Some("shared".into()),
            ..Default::default()
        },
        &env,
    )
    .expect("resolves");
    assert_eq!(r.scope, NamespaceScope::One("from-a".into()));
    // Reversed order: B's current-context and B's "shared".
    let env = env_list(&[&b, &a]);
    let r = resolve(&TargetArgs::default(), &env).expect("resolves");
    assert_eq!(r.context, "staging");
}

#[test]
fn explicit_kubeconfig_beats_env_and_home_and_namespace_flags_win() {
    let d = tempfile::tempdir().expect("tempdir");
    let a = write(d.path(), "a", A);
    let b = write(d.path(), "b", B);
    std::fs::create_dir_all(d.path().join(".kube")).expect("mkdir");
    write(&d.path().join(".kube"), "config", B);
    let env = KubeEnv {
        kubeconfig: Some(OsString::from(b.as_os_str())),
        home: Some(d.path().to_path_buf()),
        in_cluster: false,
    };
    let args = TargetArgs {
        kubeconfig: Some(a.clone()),
        namespace: Some("payments".into()),
        ..Default::default()
    };
    let r = resolve(&args, &env).expect("resolves");
    assert_eq!(r.context, "prod");
    assert_eq!(r.scope, NamespaceScope::One("payments".into()));
    let r = resolve(
        &TargetArgs {
            all_namespaces: true,
            ..args
        },
        &env,
    )
    .expect("resolves");
    assert_eq!(r.scope, NamespaceScope::All);
    // Without --kubeconfig and KUBECONFIG: ~/.kube/config.
    let env = KubeEnv {
        kubeconfig: None,
        ..env
    };
    let r = resolve(&TargetArgs::default(), &env).expect("resolves");
    assert_eq!(r.context, "staging");
}

#[test]
fn nothing_configured_is_not_a_failure() {
    let d = tempfile::tempdir().expect("tempdir");
    let env = KubeEnv {
        kubeconfig: None,
        home: Some(d.path().to_path_buf()),
        in_cluster: false,
    };
    let err = resolve(&TargetArgs::default(), &env).expect_err("nothing there");
    assert!(
        matches!(&err, SourceError::NotConfigured(m) if m.contains("no kubeconfig found")),
        "{err:?}"
    );
    assert!(!err.is_failure());
    // KUBECONFIG naming only missing files: the same.
    let err = resolve(&TargetArgs::default(), &env_list(&[&d.path().join("nope")]))
        .expect_err("nothing there");
    assert!(matches!(err, SourceError::NotConfigured(_)), "{err:?}");
}

#[test]
fn malformed_kubeconfig_names_the_file_and_bad_context_is_clear() {
    let d = tempfile::tempdir().expect("tempdir");
    let bad = write(d.path(), "broken", "apiVersion: v1\nclusters: [oops\n");
    let err = resolve(
        &TargetArgs {
            kubeconfig: Some(bad.clone()),
            ..Default::default()
        },
        &KubeEnv::default(),
    )
    .expect_err("malformed");
    assert!(
        matches!(&err, SourceError::Other(m) if m.contains(&bad.display().to_string())),
        "{err:?}"
    );
    assert!(err.is_failure());
    let a = write(d.path(), "a", A);
    let err = resolve(
        &TargetArgs {
            kubeconfig: Some(a),
            context: Some("nope".into()),
            ..Default::default()
        },
        &KubeEnv::default(),
    )
    .expect_err("no such context");
    assert!(
        matches!(&err, SourceError::Other(m) if m.contains("context \"nope\" not found")),
        "{err:?}"
    );
    let missing = d.path().join("missing");
    let err = resolve(
        &TargetArgs {
            kubeconfig: Some(missing),
            ..Default::default()
        },
        &KubeEnv::default(),
    )
    .expect_err("explicit file must exist");
    assert!(
        matches!(&err, SourceError::Other(m) if m.contains("does not exist")),
        "{err:?}"
    );
}

#[tokio::test]
async fn target_reports_context_server_user_and_client_cert_expiry() {
    let d = tempfile::tempdir().expect("tempdir");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.not_after = rcgen::date_time_ymd(2027, 2, 3);
    let cert = params.self_signed(&key).expect("cert");
    let crt = write(d.path(), "alice.crt", &cert.pem());
    let k = write(d.path(), "alice.key", &key.serialize_pem());
    let cfg = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  cluster:\n    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\ncontexts:\n- name: prod\n  context:\n    cluster: prod\n    user: alice\nusers:\n- name: alice\n  user:\n    client-certificate: {}\n    client-key: {}\n",
        crt.display(),
        k.display()
    );
    let path = write(d.path(), "config", &cfg);
    let t = connect(
        &TargetArgs {
            kubeconfig: Some(path),
            all_namespaces: true,
            ..Default::default()
        },
        &KubeEnv::default(),
        &KubernetesConfig::default(),
    )
    .await
    .expect("connects");
    assert_eq!(t.context, "prod");
    assert_eq!(t.cluster_url, "https://127.0.0.1:6443");
    assert_eq!(t.user.as_deref(), Some("alice"));
    assert_eq!(t.scope, NamespaceScope::All);
    assert_eq!(
        t.client_cert_not_after,
        Some("2027-02-03T00:00:00Z".parse().expect("ts"))
    );
}

/// A kubeconfig that starts with a UTF-16 byte order mark and has an odd number of bytes once
/// panicked inside the Kubernetes client's reader (found by the `kubeconfig` fuzz target). Every
/// path that reads a kubeconfig — the sources, `check`, `ondeck pvc` — refuses it in words.
#[test]
fn odd_length_utf16_kubeconfig_is_refused_in_words_everywhere() {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, bom) in [("be", [0xFE_u8, 0xFF]), ("le", [0xFF, 0xFE])] {
        let mut bytes = bom.to_vec();
        bytes.extend(std::iter::repeat_n(b'a', 77));
        let p = d.path().join(name);
        std::fs::write(&p, &bytes).expect("write");

        let err = resolve(
            &TargetArgs {
                kubeconfig: Some(p.clone()),
                ..Default::default()
            },
            &KubeEnv::default(),
        )
        .expect_err("odd-length UTF-16");
        assert!(
            matches!(&err, SourceError::Other(m) if m.contains("byte order mark") && m.contains(&p.display().to_string())),
            "{err:?}"
        );
        // KUBECONFIG lists it: the same refusal, not a panic.
        let err = resolve(
            &TargetArgs::default(),
            &KubeEnv {
                kubeconfig: Some(OsString::from(p.as_os_str())),
                ..Default::default()
            },
        )
        .expect_err("odd-length UTF-16 via KUBECONFIG");
        assert!(
            matches!(&err, SourceError::Other(m) if m.contains("byte order mark")),
            "{err:?}"
        );

        for argv in [
            vec!["check", "--only", "pods"],
            vec!["check", "--only", "certs"],
            vec!["pvc", "backup", "default/data"],
        ] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
                .arg("--kubeconfig")
                .arg(&p)
                .args(&argv)
                .env("HOME", d.path())
                .env_remove("KUBECONFIG")
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run ondeck");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_ne!(out.status.code(), Some(101), "{argv:?} panicked: {stderr}");
            assert!(!stderr.contains("panicked"), "{argv:?}: {stderr}");
            assert!(
                stderr.contains("byte order mark") || stdout.contains("byte order mark"),
                "{argv:?} must say why: stdout {stdout} stderr {stderr}"
            );
        }
    }
}
