//! `callhook-server`: the reference server.
//!
//! ```text
//! callhook-server                      serve webhooks, the admin API and a worker
//! callhook-server --worker             only process stored events (no HTTP)
//! callhook-server send-samples [URL]   send signed sample webhooks (default http://CALLHOOK_LISTEN)
//! ```
//! Configuration is read from the environment; see the README.

use std::process::ExitCode;

use callhook_server::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,callhook=info".into()),
        )
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve(config).await,
        Some("--worker") | Some("worker") => callhook_server::work(config, shutdown_signal()).await,
        Some("send-samples") => send_samples(config, args.get(1).cloned()).await,
        Some(other) => Err(format!("unknown command {other:?}; expected serve, --worker or send-samples [URL]")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("metrics recorder: {e}"))?;
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|e| format!("bind {}: {e}", config.listen))?;
    callhook_server::serve(config, listener, Some(metrics), shutdown_signal()).await
}

async fn send_samples(config: Config, target: Option<String>) -> Result<(), String> {
    let target = target.unwrap_or_else(|| format!("http://{}", config.listen));
    let sent = callhook_server::samples::send(&target, &config).await.map_err(|e| e.to_string())?;
    if sent.is_empty() {
        return Err("no provider secret is set: export e.g. TWILIO_AUTH_TOKEN as for the server".into());
    }
    for sample in &sent {
        println!("{:>3}  {:<10} {}", sample.status, sample.provider, sample.name);
    }
    if sent.iter().all(|s| (200..300).contains(&s.status)) { Ok(()) } else { Err("some samples were refused".into()) }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests and jobs");
}
