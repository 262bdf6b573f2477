//! `ondeck pvc` honours `-n` (the startup's scope) through the real binary against the simulated
//! cluster, without a terminal: `NAME -n NS` is `NS/NAME`; a bare `NAME` without `-n` and a
//! `NS/NAME` that disagrees with `-n` are refused before anything is touched.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::Output;

use ondeck::sim::{Kind, SimCluster, SimOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs the binary in its own session (no controlling terminal: `--confirm` is what counts).
async fn ondeck(dir: &Path, args: &[&str]) -> Result<Output, Box<dyn std::error::Error>> {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"));
        cmd.args(&args)
            .arg("--kubeconfig")
            .arg(dir.join("kubeconfig"))
            .arg("--config")
            .arg(dir.join("config.toml"))
            .env("HOME", &dir)
            .env("XDG_STATE_HOME", &dir)
            .env_remove("KUBECONFIG")
            .stdin(std::process::Stdio::null());
        // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        cmd.output()
    })
    .await??;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pvc_takes_the_namespace_from_n() -> TestResult {
    let sim = SimCluster::start(SimOptions::named("incident")).await?;
    let dir = tempfile::tempdir()?;
    sim.write_kubeconfig(&dir.path().join("kubeconfig"))?;
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[backup]\ndir = {:?}\nno_progress_timeout = \"10s\"\n",
            dir.path().join("backups").display().to_string()
        ),
    )?;
    let state = sim.state();
    let exists = || {
        state
            .get(
                Kind::PersistentVolumeClaim,
                "monitoring",
                "grafana-data-old",
            )
            .is_some()
    };
    assert!(exists());

    // A bare name without -n: refused, nothing touched.
    let out = ondeck(
        dir.path(),
        &[
            "pvc",
            "delete",
            "grafana-data-old",
            "--confirm",
            "monitoring/grafana-data-old",
        ],
    )
    .await?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("has no namespace"), "{err}");
    assert!(exists());

    // NAMESPACE/NAME and a different -n: which one? Refused.
    let out = ondeck(
        dir.path(),
        &[
            "pvc",
            "delete",
            "monitoring/grafana-data-old",
            "-n",
            "default",
            "--confirm",
            "monitoring/grafana-data-old",
        ],
    )
    .await?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("-n says default"), "{err}");
    assert!(exists());

    // NAME -n NAMESPACE: the claim in that namespace (the whole guarded flow).
    let out = ondeck(
        dir.path(),
        &[
            "pvc",
            "delete",
            "grafana-data-old",
            "-n",
            "monitoring",
            "--confirm",
            "monitoring/grafana-data-old",
        ],
    )
    .await?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("monitoring/grafana-data-old"),
        "{err}"
    );
    assert!(!exists(), "deleted in namespace monitoring");
    sim.shutdown().await;
    Ok(())
}
