//! `ondeck sim serve`: runs the simulated cluster standalone until Ctrl-C or SIGTERM, writes a
//! kubeconfig for it and prints how to use it.

use super::faults::Fault;
use super::harness::{SimCluster, SimOptions};
use super::scenario::ScenarioSource;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Built-in scenario name (incident, healthy, cleanup, large) or a path to a scenario file.
    #[arg(long, default_value = "incident")]
    pub scenario: String,
    /// Port on 127.0.0.1 (default: a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Where to write the kubeconfig (mode 0600).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Inject a fault, e.g. latency=200ms, drop-watch=30s, error-rate=0.2,
    /// forbid=delete:persistentvolumeclaims (optionally :NAMESPACE), expired-cert, no-kubelet,
    /// exec-break=1MiB, unschedulable, image-pull-backoff[=IMAGE], exec-fail.
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<Fault>,
    /// Add a client certificate expiring in this many days to the kubeconfig user.
    #[arg(long, allow_negative_numbers = true)]
    pub client_cert_days: Option<i64>,
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let scenario: ScenarioSource = args.scenario.parse().unwrap_or_default();
    let opts = SimOptions {
        scenario,
        port: args.port,
        faults: args.faults.clone(),
        client_cert_days: args.client_cert_days,
        ..SimOptions::default()
    };
    let sim = SimCluster::start(opts).await?;
    let kubeconfig = match args.kubeconfig_out.clone() {
        Some(p) => p,
        None => std::env::temp_dir().join(format!("ondeck-sim-{}.kubeconfig", sim.addr().port())),
    };
    sim.write_kubeconfig(&kubeconfig)?;
    println!(
        "ondeck simulated cluster (scenario {}) serving at {}",
        sim.scenario_name(),
        sim.url()
    );
    println!(
        "kubeconfig written to {} (context \"ondeck-sim\", mode 0600)",
        kubeconfig.display()
    );
    for f in &args.faults {
        println!("fault active: {f}");
    }
    println!();
    println!(
        "  kubectl --kubeconfig {} get pods,pvc -A",
        kubeconfig.display()
    );
    println!("  ondeck --kubeconfig {}", kubeconfig.display());
    println!();
    println!("Ctrl-C or SIGTERM stops it.");
    wait_for_signal().await?;
    println!("stopping the simulated cluster");
    sim.shutdown().await;
    if args.kubeconfig_out.is_none() {
        let _ = std::fs::remove_file(&kubeconfig);
    }
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn parses_repeated_faults_and_negative_cert_days() {
        let cli = Cli::try_parse_from([
            "x",
            "--scenario",
            "cleanup",
            "--port",
            "6443",
            "--fault",
            "latency=200ms",
            "--fault",
            "no-kubelet",
            "--client-cert-days",
            "-3",
        ]);
        let Ok(cli) = cli else { panic!("{cli:?}") };
        assert_eq!(cli.serve.scenario, "cleanup");
        assert_eq!(cli.serve.port, Some(6443));
        assert_eq!(
            cli.serve.faults,
            vec![
                Fault::Latency(std::time::Duration::from_millis(200)),
                Fault::NoKubelet
            ]
        );
        assert_eq!(cli.serve.client_cert_days, Some(-3));
        assert!(Cli::try_parse_from(["x", "--fault", "bogus"]).is_err());
    }
}
