//! `ondeck pvc ...` through its entry point (`actions::cli::main`) against the simulated
//! cluster, without a terminal: `--confirm` must match exactly; exit codes say what happened.

mod pvc_support;

use ondeck::actions::cli::{PvcCommand, PvcGlobals, main};
use pvc_support::*;

fn has_tty() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

fn globals(f: &Fixture, read_only: bool) -> PvcGlobals {
    let mut config = ondeck::config::Config::default();
    config.backup.dir = Some(f.dir.path().join("backups"));
    config.backup.no_progress_timeout =
        ondeck::config::HumanDuration(std::time::Duration::from_secs(5));
    PvcGlobals {
        kubeconfig: Some(f.kubeconfig.clone()),
        context: None,
        read_only,
        config,
        audit_log: Some(f.audit_path()),
    }
}

fn delete(target: &str, confirm: Option<&str>) -> Result<PvcCommand, Box<dyn std::error::Error>> {
    Ok(PvcCommand::Delete {
        target: target.parse()?,
        allow_in_use: false,
        confirm: confirm.map(str::to_string),
        keep_reclaim_policy: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_confirm_must_match_exactly() -> TestResult {
    if has_tty() {
        eprintln!("skipped: a terminal is attached (the name would be read from it)");
        return Ok(());
    }
    let f = fixture("incident", false).await?;
    let target = "monitoring/grafana-data-old";
    assert_eq!(
        main(globals(&f, false), delete(target, None)?).await,
        1,
        "no --confirm"
    );
    assert_eq!(
        main(
            globals(&f, false),
            delete(target, Some("monitoring/grafana-data"))?
        )
        .await,
        1
    );
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    assert!(f.pvc_deletes().is_empty());
    assert_eq!(
        main(globals(&f, true), delete(target, Some(target))?).await,
        1,
        "read-only"
    );
    assert!(f.pvc_deletes().is_empty());
    assert_eq!(
        main(globals(&f, false), delete(target, Some(target))?).await,
        0
    );
    assert!(!f.pvc_exists("monitoring", "grafana-data-old"));
    // A missing or wrong --confirm is refused before the first request: nothing to audit.
    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1]["outcome"], "deleted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_rescue_and_in_use_refusal_exit_codes() -> TestResult {
    let f = fixture("incident", false).await?;
    let backup = PvcCommand::Backup {
        target: "monitoring/grafana-data".parse()?,
    };
    assert_eq!(
        main(globals(&f, false), backup).await,
        0,
        "backing up an in-use claim is fine"
    );
    let in_use = delete("monitoring/grafana-data", Some("monitoring/grafana-data"))?;
    assert_eq!(main(globals(&f, false), in_use).await, 1);
    let rescue = PvcCommand::Rescue {
        target: "logging/loki-storage".parse()?,
    };
    assert_eq!(main(globals(&f, false), rescue).await, 0);
    let missing = PvcCommand::Backup {
        target: "monitoring/nope".parse()?,
    };
    assert_eq!(main(globals(&f, false), missing).await, 2);
    assert!(f.pvc_exists("monitoring", "grafana-data"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_commands_rebind_and_from_backup_are_audited() -> TestResult {
    let f = fixture("incident", false).await?;
    // A backup of the unused claim, then the rescue of Loki's.
    let backup = PvcCommand::Backup {
        target: "monitoring/grafana-data-old".parse()?,
    };
    assert_eq!(main(globals(&f, false), backup).await, 0);
    let rescue = PvcCommand::Rescue {
        target: "logging/loki-storage".parse()?,
    };
    assert_eq!(main(globals(&f, false), rescue).await, 0);
    let pv = f.pv_of("logging", "loki-storage").ok_or("pv")?;
    f.sim
        .state()
        .delete(ondeck::sim::Kind::Pod, "logging", "loki-0");
    for _ in 0..150 {
        if !f.pvc_exists("logging", "loki-storage") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let rebind = PvcCommand::Restore {
        target: "logging/loki-storage".parse()?,
        from_pv: Some(pv.clone()),
        from_backup: None,
    };
    assert_eq!(main(globals(&f, false), rebind).await, 0);
    assert_eq!(f.pv_of("logging", "loki-storage"), Some(pv));

    let dir = std::fs::read_dir(f.dir.path().join("backups/monitoring/grafana-data-old"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .next()
        .ok_or("no backup dir")?;
    let from_backup = PvcCommand::Restore {
        target: "monitoring/grafana-restored".parse()?,
        from_pv: None,
        from_backup: Some(dir),
    };
    assert_eq!(main(globals(&f, false), from_backup).await, 0);
    assert!(f.pvc_exists("monitoring", "grafana-restored"));
    let audit = audit_lines(&f.audit_path());
    let actions: Vec<&str> = audit.iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(actions, vec!["rescue", "restore", "restore"]);
    assert!(audit.iter().skip(1).all(|a| a["outcome"] == "restored"));
    Ok(())
}
