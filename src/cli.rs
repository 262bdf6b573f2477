//! The command-line contract (SPEC.md): global flags, `check`, `config init`, `completions`,
//! `sim serve`. `main.rs` only calls [`main`].
//!
//! The flags are read here and nowhere else: [`GlobalArgs::startup`] resolves them once into a
//! [`Startup`] that the console, `check` and `pvc` receive (cli -> check/actions/console, never
//! back).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::check::CheckArgs;
use crate::config::{Config, ConfigError, HumanDuration};
use crate::startup::{DemoSpec, Startup, StartupError, TargetSpec};

#[derive(Debug, Parser)]
#[command(
    name = "ondeck",
    version,
    about = "An htop-style terminal operations console for people on call",
    long_about = "ondeck watches local TCP sockets (and, with a kubeconfig, Kubernetes pods, PVCs and \
                  certificates), ranks what it sees by danger and guards destructive actions.\n\n\
                  Run with no subcommand for the full-screen console; `ondeck check` for one \
                  evaluation with Nagios exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config; in a pod, in-cluster config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Only this namespace. Without it the console, `check` and `pvc` cover ALL namespaces:
    /// the kubeconfig context's namespace is NOT used as a default (an on-call health check
    /// must not silently check one namespace); -n wins over the context's namespace.
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// All namespaces (the default; accepted for kubectl habits).
    #[arg(short = 'A', long, global = true, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Config file (default: $XDG_CONFIG_HOME/ondeck/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Refuse every mutating request (delete, patch, create), whatever asks for it.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Colour theme: dark, light, high-contrast, colorblind, or a theme file's name.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// How often sources poll, e.g. 1s, 500ms, 5s.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub refresh: Option<Duration>,
    /// Only ASCII characters: no box drawing or other glyphs.
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Run against the built-in simulated Kubernetes cluster instead of a real one.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Scenario for --demo: a built-in one (incident, healthy, cleanup, large) or a path to a
    /// scenario YAML file.
    #[arg(long, global = true, value_name = "NAME", requires = "demo")]
    pub scenario: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every source once and exit 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN.
    Check(CheckArgs),
    /// Manage the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Guarded PVC operations: backup, delete (preflight, verified backup, Retain, typed name),
    /// rescue a claim Terminating while in use, restore.
    #[command(subcommand)]
    Pvc(crate::actions::cli::PvcCommand),
    /// The simulated Kubernetes cluster (for demos, training and tests).
    #[command(subcommand)]
    Sim(SimCommand),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve a simulated cluster over HTTPS on 127.0.0.1 and write a kubeconfig for it.
    Serve(crate::sim::serve::ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented config file with every default.
    Init {
        /// Where to write it (default: $XDG_CONFIG_HOME/ondeck/config.toml).
        #[arg(long, value_name = "PATH")]
        path: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the path of the config file in use.
    Path,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 1s, 500ms, 2m)"))?;
    if d < Duration::from_millis(100) {
        return Err("must be at least 100ms".into());
    }
    Ok(d)
}

/// Loads the config file and applies the command line on top of it.
pub fn effective_config(g: &GlobalArgs) -> Result<(Config, Option<PathBuf>), ConfigError> {
    let (mut cfg, path) = Config::load(g.config.as_deref())?;
    if g.read_only {
        cfg.read_only = true;
    }
    if g.ascii {
        cfg.ascii = true;
    }
    if let Some(t) = &g.theme {
        cfg.theme.clone_from(t);
    }
    if let Some(r) = g.refresh {
        cfg.refresh = HumanDuration(r);
    }
    Ok((cfg, path))
}

impl GlobalArgs {
    /// Resolves the flags and the config file once into what every command receives.
    pub fn startup(&self) -> Result<Startup, StartupError> {
        let (config, config_path) = effective_config(self)?;
        let scope = TargetSpec::scope_from_flag(self.namespace.as_deref())?;
        Ok(Startup {
            config,
            config_path,
            target: TargetSpec {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                scope,
            },
            demo: self.demo.then(|| DemoSpec {
                scenario: self.scenario.clone(),
            }),
        })
    }
}

/// The subcommand named on a command line, skipping global flags and their values; used to
/// report a command line clap refused in the subcommand's own convention.
fn subcommand_of(args: &[String]) -> Option<&str> {
    const TAKES_VALUE: &[&str] = &[
        "--kubeconfig",
        "--context",
        "-n",
        "--namespace",
        "--config",
        "--theme",
        "--refresh",
        "--scenario",
    ];
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" {
            return None;
        }
        if TAKES_VALUE.contains(&a.as_str()) {
            it.next();
            continue;
        }
        if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

/// Parses the command line. A refused `check` command line exits 3 (UNKNOWN) with a Nagios
/// line, not clap's 2, which Nagios would read as CRITICAL; help and version exit 0.
fn parse_or_exit() -> Result<Cli, ExitCode> {
    let args: Vec<String> = std::env::args().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => Ok(cli),
        Err(e) => {
            use clap::error::ErrorKind;
            let is_check = subcommand_of(&args) == Some("check");
            if !is_check || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                e.exit();
            }
            let first = e
                .to_string()
                .lines()
                .next()
                .unwrap_or("invalid command line")
                .trim_start_matches("error: ")
                .to_string();
            crate::check::early_error(
                crate::check::format_from_args(&args),
                &format!("command line: {first}"),
            );
            let _ = e.print();
            Err(ExitCode::from(3))
        }
    }
}

/// Entry point for the binary.
pub fn main() -> ExitCode {
    crate::memory::one_heap();
    let cli = match parse_or_exit() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let _log = crate::logging::init();
    // One crypto provider for every TLS user (kube, reqwest, the simulated cluster).
    let _ = rustls::crypto::ring::default_provider().install_default();

    match cli.command {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "ondeck", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Some(Command::Config(cmd)) => config_command(cmd, &cli.global),
        Some(Command::Pvc(cmd)) => {
            let startup = match cli.global.startup() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("ondeck pvc: {}", error_chain(&e));
                    return ExitCode::from(2);
                }
            };
            let code = match runtime() {
                Ok(rt) => rt.block_on(crate::actions::cli::main_with_startup(&startup, cmd)),
                Err(e) => {
                    eprintln!("ondeck pvc: cannot start: {e}");
                    2
                }
            };
            ExitCode::from(code as u8)
        }
        Some(Command::Sim(SimCommand::Serve(args))) => {
            match runtime().and_then(|rt| rt.block_on(crate::sim::serve::serve(args))) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ondeck sim serve: {}", error_chain(e.as_ref()));
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Check(args)) => {
            let format = if args.json {
                crate::check::CheckFormat::Json
            } else {
                args.format
            };
            let startup = match cli.global.startup() {
                Ok(s) => s,
                Err(e) => {
                    crate::check::early_error(format, &error_chain(&e));
                    return ExitCode::from(3);
                }
            };
            let code = match runtime() {
                Ok(rt) => rt.block_on(crate::check::main(&startup, &args)),
                Err(e) => {
                    crate::check::early_error(
                        format,
                        &format!("cannot start: {}", error_chain(e.as_ref())),
                    );
                    3
                }
            };
            ExitCode::from(code as u8)
        }
        None => match cli
            .global
            .startup()
            .map_err(anyhow::Error::from)
            .and_then(|s| runtime().and_then(|rt| rt.block_on(crate::console::run(&s))))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ondeck: {}", error_chain(e.as_ref()));
                ExitCode::FAILURE
            }
        },
    }
}

pub use crate::domain::source::error_chain;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn config_command(cmd: ConfigCommand, g: &GlobalArgs) -> ExitCode {
    match cmd {
        ConfigCommand::Init { path, force } => {
            let Some(path) = path
                .or_else(|| g.config.clone())
                .or_else(crate::config::default_path)
            else {
                eprintln!("ondeck: no config directory found; pass --path");
                return ExitCode::FAILURE;
            };
            if path.exists() && !force {
                eprintln!(
                    "ondeck: {} already exists; pass --force to overwrite it",
                    path.display()
                );
                return ExitCode::FAILURE;
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && let Err(e) = std::fs::create_dir_all(dir)
            {
                eprintln!("ondeck: cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            match std::fs::write(&path, crate::config::DEFAULT_CONFIG_TOML) {
                Ok(()) => {
                    println!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("ondeck: cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
        ConfigCommand::Path => match effective_config(g) {
            Ok((_, Some(p))) => {
                println!("{}", p.display());
                ExitCode::SUCCESS
            }
            Ok((_, None)) => {
                match crate::config::default_path() {
                    Some(p) => println!("{} (not present: built-in defaults in use)", p.display()),
                    None => println!("(no config directory: built-in defaults in use)"),
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ondeck: {e}");
                ExitCode::from(2)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_flags_parse() {
        let cli = Cli::try_parse_from(["ondeck", "check", "--json", "--only", "sockets,pods"])
            .expect("parses");
        match cli.command {
            Some(Command::Check(a)) => {
                assert!(a.json);
                assert_eq!(a.only, ["sockets", "pods"]);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["ondeck", "check", "--format", "prometheus", "--demo"])
            .expect("parses");
        assert!(cli.global.demo);
        assert!(Cli::try_parse_from(["ondeck", "check", "--json", "--format", "text"]).is_err());
    }

    #[test]
    fn global_flags_apply_over_the_config() {
        let cli = Cli::try_parse_from([
            "ondeck",
            "--read-only",
            "--refresh",
            "1s",
            "--theme",
            "light",
            "--ascii",
            "--config",
            "/nonexistent/x.toml",
        ])
        .expect("parses");
        assert!(cli.global.read_only);
        assert_eq!(cli.global.refresh, Some(Duration::from_secs(1)));
        // An explicit config path that does not exist is an error, not silent defaults.
        assert!(effective_config(&cli.global).is_err());
        let g = GlobalArgs {
            config: None,
            ..cli.global
        };
        // With no file at the default path the defaults are used, then the flags.
        if crate::config::default_path().is_none_or(|p| !p.exists()) {
            let (cfg, _) = effective_config(&g).expect("defaults");
            assert!(cfg.read_only && cfg.ascii);
            assert_eq!(cfg.theme, "light");
            assert_eq!(cfg.refresh.0, Duration::from_secs(1));
        }
    }

    #[test]
    fn startup_covers_all_namespaces_unless_n_names_one() {
        let parse = |args: &[&str]| {
            let mut v = vec!["ondeck", "--config", "/dev/null"];
            v.extend_from_slice(args);
            Cli::try_parse_from(v)
                .expect("parses")
                .global
                .startup()
                .expect("resolves")
        };
        use crate::domain::pods::NamespaceScope;
        assert_eq!(parse(&["check"]).target.scope, NamespaceScope::All);
        assert_eq!(parse(&["-A", "check"]).target.scope, NamespaceScope::All);
        let s = parse(&["check", "-n", "shop", "--context", "prod"]);
        assert_eq!(s.target.scope, NamespaceScope::One("shop".into()));
        assert_eq!(s.target.context.as_deref(), Some("prod"));
        assert!(s.demo.is_none());
        let d = parse(&["--demo", "--scenario", "large", "pvc", "backup", "a/b"]);
        assert_eq!(
            d.demo.and_then(|d| d.scenario).as_deref(),
            Some("large"),
            "pvc gets the same demo as the console"
        );
        assert!(Cli::try_parse_from(["ondeck", "-A", "-n", "x"]).is_err());
    }

    #[test]
    fn the_subcommand_is_found_behind_global_flags() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            subcommand_of(&args(&["ondeck", "check", "--bogus"])),
            Some("check")
        );
        assert_eq!(
            subcommand_of(&args(&["ondeck", "-n", "pvc", "--context", "x", "check"])),
            Some("check")
        );
        assert_eq!(subcommand_of(&args(&["ondeck", "-n", "check"])), None);
        assert_eq!(
            subcommand_of(&args(&["ondeck", "--ascii", "pvc", "check"])),
            Some("pvc")
        );
    }

    #[test]
    fn refresh_must_be_sane() {
        assert!(Cli::try_parse_from(["ondeck", "--refresh", "1ms"]).is_err());
        assert!(Cli::try_parse_from(["ondeck", "--refresh", "soon"]).is_err());
        assert!(
            Cli::try_parse_from(["ondeck", "--scenario", "incident"]).is_err(),
            "--scenario needs --demo"
        );
    }
}
