//! `ondeck pvc backup|delete|rescue|restore NAMESPACE/NAME` (or `NAME -n NAMESPACE`): the guarded
//! flows for scripts and plain ssh. Same code as the TUI dialog; this module only reads the
//! terminal and prints.
//!
//! Exit codes: 0 done; 1 refused, aborted or cancelled (nothing was deleted); 2 failed
//! (connection, API or I/O error; the message says what state things are in).

use super::backup::{BackupOptions, BackupProgress, BackupStage, VerifiedBackup};
use super::confirm::{TypedInput, read_typed_name};
use super::executor::Executor;
use super::flow::{DeleteRequest, FlowEvent, FlowInput, run_delete_flow};
use super::preflight::{self, Operation};
use super::restore::{self, RestoreOptions};
use super::target::{self, TargetSource};
use super::{ActionError, PvcRef, audit, sanitize};
use crate::config::Config;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The `ondeck pvc` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PvcCommand {
    /// Back up a claim: manifests and a verified tar.gz of its data.
    Backup {
        /// NAMESPACE/NAME of the claim, or NAME with -n NAMESPACE.
        #[arg(value_parser = parse_claim)]
        target: PvcRef,
    },
    /// Delete a claim safely: preflight, verified backup, PV to Retain, typed name, guarded delete.
    Delete {
        /// NAMESPACE/NAME of the claim, or NAME with -n NAMESPACE.
        #[arg(value_parser = parse_claim)]
        target: PvcRef,
        /// Delete even though a pod mounts the claim.
        #[arg(long)]
        allow_in_use: bool,
        /// Without a terminal: the NAMESPACE/NAME again, exactly (ignored when a terminal is
        /// present: the name is then typed).
        #[arg(long, value_name = "NAMESPACE/NAME")]
        confirm: Option<String>,
        /// Leave a PV with reclaimPolicy Delete as it is (the data goes with the claim).
        #[arg(long)]
        keep_reclaim_policy: bool,
    },
    /// Rescue a claim that is Terminating while a pod uses it: PV to Retain, backup through the pod.
    Rescue {
        /// NAMESPACE/NAME of the claim, or NAME with -n NAMESPACE.
        #[arg(value_parser = parse_claim)]
        target: PvcRef,
    },
    /// Restore a claim: re-bind to a retained PV, or from a backup directory.
    Restore {
        /// NAMESPACE/NAME of the claim to create, or NAME with -n NAMESPACE.
        #[arg(value_parser = parse_claim)]
        target: PvcRef,
        /// Re-bind to this Released PV (reclaimPolicy Retain).
        #[arg(
            long,
            value_name = "PV",
            conflicts_with = "from_backup",
            required_unless_present = "from_backup"
        )]
        from_pv: Option<String>,
        /// Restore the archive in this backup directory into a new claim.
        #[arg(long, value_name = "DIR")]
        from_backup: Option<PathBuf>,
    },
}

/// What the global command line gives the `pvc` commands.
#[derive(Debug, Clone, Default)]
pub struct PvcGlobals {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `--read-only` or the config's `read_only`.
    pub read_only: bool,
    pub config: Config,
    /// The audit log; `None` = `$XDG_STATE_HOME/ondeck/audit.jsonl`.
    pub audit_log: Option<PathBuf>,
}

fn eprint_lines(lines: &[String]) {
    for l in lines {
        eprintln!("  {}", sanitize(l));
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Prints progress at most once a second (a wait's countdown every 5 s); changes always.
fn progress_printer() -> impl Fn(BackupProgress) + Send + Sync {
    let last = Mutex::new(Instant::now() - Duration::from_secs(10));
    move |p: BackupProgress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        let every = if p.waiting.is_some() {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(1)
        };
        if (p.stage == BackupStage::Streaming || p.waiting.is_some()) && last.elapsed() < every {
            return;
        }
        if p.stage != BackupStage::Changed {
            *last = Instant::now();
        }
        eprintln!("{}", sanitize(&progress_line(&p)));
    }
}

/// A change sink that prints each change when it happens.
fn change_printer() -> super::executor::ChangeSink {
    std::sync::Arc::new(|c: &super::Change| eprintln!("CHANGED: {}", sanitize(&c.text)))
}

pub fn progress_line(p: &BackupProgress) -> String {
    if let Some(c) = &p.change {
        return format!("CHANGED: {}", c.text);
    }
    if let Some(what) = &p.waiting {
        // The countdown first: a narrow dialog cuts the end of the line.
        let left = p
            .time_left
            .map(|l| format!(" (gives up in {}s)", l.as_secs()))
            .unwrap_or_default();
        return format!("  waiting{left} for {what}");
    }
    match p.stage {
        BackupStage::Streaming => {
            let eta = p
                .eta
                .map(|e| format!(", ETA {}s", e.as_secs()))
                .unwrap_or_default();
            let of = p
                .expected_bytes
                .map(|e| format!(" of ~{}", human_bytes(e)))
                .unwrap_or_default();
            format!(
                "  streaming {}{of} at {}/s{eta}",
                human_bytes(p.bytes),
                human_bytes(p.bytes_per_sec as u64)
            )
        }
        BackupStage::WritingManifests => "  writing the PVC, PV and StorageClass manifests".into(),
        BackupStage::StartingHelper => "  starting a read-only helper pod".into(),
        BackupStage::MeasuringUsage => "  measuring the used space".into(),
        BackupStage::Verifying => "  verifying the archive (reading it end to end)".into(),
        BackupStage::Changed => "  (a change was made)".into(),
    }
}

async fn connect(g: &PvcGlobals) -> Result<(Executor, TargetSource), ActionError> {
    let (client, target, source) = target::connect(
        g.kubeconfig.clone(),
        g.context.clone(),
        g.config.kubernetes.connect_timeout.into(),
    )
    .await?;
    let exec = Executor::new(
        client,
        target,
        g.read_only || g.config.read_only,
        g.config.kubernetes.request_timeout.into(),
    );
    Ok((exec, source))
}

fn exit_code(e: &ActionError) -> i32 {
    match e {
        ActionError::Refused(_)
        | ActionError::Cancelled(_)
        | ActionError::ReadOnly(_)
        | ActionError::ContextChanged { .. }
        | ActionError::Changed { .. }
        | ActionError::Forbidden { .. } => 1,
        _ => 2,
    }
}

fn report_backup(b: &VerifiedBackup) {
    let s = &b.manifest.summary;
    println!(
        "backup verified: {}\n  {} files, {} ({} archive), sha256 {}",
        b.dir.display(),
        s.files,
        human_bytes(s.file_bytes),
        human_bytes(s.archive_bytes),
        s.archive_sha256
    );
}

/// `NAMESPACE/NAME`, or a bare `NAME` whose namespace comes from `-n` (left empty here and
/// filled by [`with_namespace`]).
fn parse_claim(s: &str) -> Result<PvcRef, String> {
    if s.contains('/') {
        return s.parse::<PvcRef>().map_err(|e| e.to_string());
    }
    // Same name rules as NAMESPACE/NAME.
    let r = format!("x/{s}")
        .parse::<PvcRef>()
        .map_err(|_| format!("expected NAMESPACE/NAME or NAME (with -n), got {s:?}"))?;
    Ok(PvcRef::new("", r.name))
}

/// The claim's namespace from the startup's scope: `NAME -n NS` gives `NS/NAME`; `NS/NAME`
/// with a different `-n` is refused (which one was meant?); a bare `NAME` without `-n` too
/// (`ondeck pvc` never guesses a namespace, not even the context's).
pub fn with_namespace(
    mut claim: PvcRef,
    scope: &crate::domain::pods::NamespaceScope,
) -> Result<PvcRef, String> {
    use crate::domain::pods::NamespaceScope;
    match (claim.namespace.is_empty(), scope) {
        (true, NamespaceScope::One(ns)) => claim.namespace.clone_from(ns),
        (true, NamespaceScope::All) => {
            return Err(format!(
                "{} has no namespace: give NAMESPACE/{} or -n NAMESPACE",
                claim.name, claim.name
            ));
        }
        (false, NamespaceScope::One(ns)) if *ns != claim.namespace => {
            return Err(format!(
                "{claim} is in namespace {} but -n says {ns}: give one",
                claim.namespace
            ));
        }
        (false, _) => {}
    }
    Ok(claim)
}

impl PvcCommand {
    fn target_mut(&mut self) -> &mut PvcRef {
        match self {
            PvcCommand::Backup { target }
            | PvcCommand::Delete { target, .. }
            | PvcCommand::Rescue { target }
            | PvcCommand::Restore { target, .. } => target,
        }
    }
}

/// `ondeck pvc ...` from the binary, on the resolved startup: its config, its target (with
/// `--demo` the built-in simulated cluster, whose state is lost at exit: a demo of the flow)
/// and `-n` for a bare claim name. Returns the process exit code.
pub async fn main_with_startup(startup: &crate::startup::Startup, mut cmd: PvcCommand) -> i32 {
    let target = cmd.target_mut();
    match with_namespace(
        std::mem::replace(target, PvcRef::new("", "")),
        &startup.target.scope,
    ) {
        Ok(r) => *target = r,
        Err(e) => {
            eprintln!("ondeck pvc: {}", sanitize(&e));
            return 2;
        }
    }
    let launched = match startup.launch().await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ondeck pvc: {e:#}");
            return 2;
        }
    };
    let config = startup.config.clone();
    let g = PvcGlobals {
        kubeconfig: launched.target().kubeconfig.clone(),
        context: launched.target().context.clone(),
        read_only: config.read_only,
        config,
        audit_log: None,
    };
    let code = main(g, cmd).await;
    launched.stop().await;
    code
}

/// Runs one `ondeck pvc` command; returns the process exit code.
pub async fn main(g: PvcGlobals, cmd: PvcCommand) -> i32 {
    // The flows are large state machines: on the heap, not on a small thread stack.
    match Box::pin(run(&g, cmd)).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ondeck pvc: {}", sanitize(&e.to_string()));
            exit_code(&e)
        }
    }
}

fn ctrl_c_cancels(cancel: &CancellationToken) {
    let cancel = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("cancelling...");
            cancel.cancel();
        }
    });
}

/// The typed `--confirm` is compared before anything is done: without a terminal, a missing
/// or wrong `--confirm` refuses the delete before the first request.
pub fn precheck_confirm(
    target: &PvcRef,
    confirm: Option<&str>,
    tty: bool,
) -> Result<(), ActionError> {
    if tty {
        return Ok(());
    }
    match confirm {
        None => Err(ActionError::Refused(format!(
            "no terminal to type the name: pass --confirm {target}; nothing was done"
        ))),
        Some(c) if super::confirm::check_name(target, c) != super::confirm::NameCheck::Exact => {
            Err(ActionError::Refused(format!(
                "--confirm {:?} is not {target}; nothing was done",
                sanitize(c)
            )))
        }
        Some(_) => Ok(()),
    }
}

async fn run(g: &PvcGlobals, cmd: PvcCommand) -> Result<(), ActionError> {
    if let PvcCommand::Delete {
        target, confirm, ..
    } = &cmd
    {
        precheck_confirm(target, confirm.as_deref(), has_tty())?;
    }
    let (exec, source) = connect(g).await?;
    let exec = exec.for_flow(Some(change_printer()));
    let opts = BackupOptions::from_config(&g.config)?;
    let audit_path = g.audit_log.clone().or_else(audit::default_path);
    match cmd {
        PvcCommand::Backup { target } => {
            source.ensure_unchanged(exec.target())?;
            let pf = preflight::preflight(&exec, &target).await?;
            eprintln!("plan:");
            let plan: Vec<String> = pf
                .plan_lines(Operation::Backup, false)
                .into_iter()
                .filter(|l| !l.starts_with(|c: char| c.is_ascii_digit()))
                .collect();
            eprint_lines(&plan);
            let refusals = pf.refusals(Operation::Backup, true, false);
            if !refusals.is_empty() {
                return Err(ActionError::Refused(refusals.join("; ")));
            }
            let cancel = CancellationToken::new();
            ctrl_c_cancels(&cancel);
            let b = super::backup::backup(&exec, &pf, &opts, &progress_printer(), &cancel).await?;
            report_backup(&b);
            Ok(())
        }
        PvcCommand::Delete {
            target,
            allow_in_use,
            confirm,
            keep_reclaim_policy,
        } => {
            let req = DeleteRequest::from_config(
                &g.config,
                target,
                opts,
                allow_in_use,
                keep_reclaim_policy,
                audit_path,
            );
            delete_interactive(&exec, &source, &req, confirm).await
        }
        PvcCommand::Rescue { target } => {
            let cancel = CancellationToken::new();
            ctrl_c_cancels(&cancel);
            let r = super::rescue::rescue(
                &exec,
                &source,
                &target,
                &opts,
                &progress_printer(),
                &cancel,
                audit_path.as_deref(),
            )
            .await?;
            report_backup(&r.backup);
            if let Some(e) = &r.retain_error {
                eprintln!(
                    "WARNING: the PV could not be switched to Retain: {}",
                    sanitize(e)
                );
            }
            println!("what happens next:");
            for l in &r.next_steps {
                println!("  {}", sanitize(l));
            }
            Ok(())
        }
        PvcCommand::Restore {
            target,
            from_pv,
            from_backup,
        } => {
            let ropts = RestoreOptions {
                helper_image: opts.helper_image.clone(),
                helper_start_timeout: opts.helper_start_timeout,
                no_progress_timeout: opts.no_progress_timeout,
                bind_timeout: g.config.backup.bind_timeout.0,
            };
            let source_dir = from_backup.clone();
            let pv_name = from_pv.clone();
            let result = match (from_pv, from_backup) {
                (Some(pv), dir) => {
                    let template = match &dir {
                        Some(d) => Some(restore::load_claim_manifest(d)?),
                        None => None,
                    };
                    Box::pin(restore::rebind(
                        &exec,
                        &target,
                        &pv,
                        template.as_ref(),
                        &ropts,
                    ))
                    .await
                }
                (None, Some(dir)) => {
                    let backup = VerifiedBackup::load(&dir)?;
                    let cancel = CancellationToken::new();
                    ctrl_c_cancels(&cancel);
                    Box::pin(restore::from_backup(
                        &exec,
                        &target,
                        &backup,
                        &ropts,
                        &progress_printer(),
                        &cancel,
                    ))
                    .await
                }
                (None, None) => {
                    return Err(ActionError::Refused(
                        "give --from-pv PV or --from-backup DIR".into(),
                    ));
                }
            };
            let result = result.map_err(|e| match exec.changes().remaining_note() {
                Some(note) if !e.to_string().contains("put back") => e.with_note(&note),
                _ => e,
            });
            if let Some(path) = &audit_path {
                let record = restore::audit_record(
                    &exec,
                    &target,
                    pv_name.as_deref(),
                    source_dir.as_deref(),
                    &result,
                )
                .await;
                audit::append(path, &record)?;
            }
            let report = result?;
            println!(
                "restored {} (PV {})",
                report.pvc,
                report.pv.as_deref().unwrap_or("?")
            );
            if let Some(s) = &report.restored {
                println!(
                    "  verified: {} files, {} match the backup",
                    s.files,
                    human_bytes(s.file_bytes)
                );
            }
            Ok(())
        }
    }
}

/// Whether a controlling terminal can be opened for the typed confirmation.
fn has_tty() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

async fn delete_interactive(
    exec: &Executor,
    source: &TargetSource,
    req: &DeleteRequest,
    confirm: Option<String>,
) -> Result<(), ActionError> {
    let (ev_tx, mut ev_rx) = mpsc::channel::<FlowEvent>(64);
    let (in_tx, in_rx) = mpsc::channel::<FlowInput>(4);
    let cancel_tx = in_tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = cancel_tx.send(FlowInput::Cancel).await;
        }
    });
    let mut flow = Box::pin(run_delete_flow(exec, source, req, ev_tx, in_rx));
    let printer = progress_printer();
    let tty = has_tty();
    let result = loop {
        tokio::select! {
            r = &mut flow => break r,
            Some(ev) = ev_rx.recv() => match ev {
                FlowEvent::Preflight { plan, refusals } => {
                    eprintln!("plan:");
                    eprint_lines(&plan);
                    for r in refusals {
                        eprintln!("REFUSED: {}", sanitize(&r));
                    }
                }
                FlowEvent::Progress(p) => printer(p),
                FlowEvent::BackupVerified { dir, files, bytes, archive_sha256 } => eprintln!(
                    "backup verified: {} ({files} files, {}, sha256 {archive_sha256})",
                    dir.display(), human_bytes(bytes)
                ),
                // Said when it happened, as a CHANGED line.
                FlowEvent::RetainSet { .. } => {}
                FlowEvent::AwaitingName { expected } => {
                    let input = confirmation(&expected, tty, confirm.as_deref()).await;
                    let _ = in_tx.send(input).await;
                }
                FlowEvent::Deleting => eprintln!("deleting (server dry-run, then with uid + resourceVersion preconditions)..."),
                FlowEvent::Done { .. } | FlowEvent::Failed { .. } => {}
            },
        }
    };
    drop(in_tx);
    match result.outcome {
        Ok(outcome) => {
            println!("{}: {}", req.pvc, sanitize(&outcome.to_string()));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Where the confirmation comes from: typed on the terminal when there is one; otherwise
/// `--confirm`, which the flow compares exactly.
async fn confirmation(expected: &PvcRef, tty: bool, confirm: Option<&str>) -> FlowInput {
    if tty {
        if confirm.is_some() {
            eprintln!("a terminal is present: --confirm is ignored, type the name");
        }
        let prompt = format!("type {expected} to delete it (Esc cancels): ");
        match tokio::task::spawn_blocking(move || read_typed_name(&prompt)).await {
            Ok(Ok(TypedInput::Typed(s))) => FlowInput::ConfirmName(s),
            Ok(Ok(TypedInput::Pasted)) => {
                eprintln!("pasted text is refused: type the name");
                FlowInput::Pasted
            }
            Ok(Ok(TypedInput::Cancelled)) => FlowInput::Cancel,
            Ok(Err(e)) => {
                eprintln!("cannot read the terminal: {e}");
                FlowInput::Cancel
            }
            Err(_) => FlowInput::Cancel,
        }
    } else {
        match confirm {
            Some(c) => FlowInput::ConfirmName(c.to_string()),
            None => {
                eprintln!("no terminal: pass --confirm {expected} to confirm");
                FlowInput::Cancel
            }
        }
    }
}
