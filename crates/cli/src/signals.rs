//! Ctrl-C, SIGTERM and SIGHUP as one future, so every command stops cleanly on any of them.

use tokio::signal::unix::{SignalKind, signal};

/// Resolves when the process receives SIGINT (Ctrl-C), SIGTERM or SIGHUP (a closed terminal), with
/// the signal's name.
pub async fn interrupted() -> &'static str {
    let (term, hangup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(term), Ok(hangup)) => (term, hangup),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "cannot listen for SIGTERM and SIGHUP; Ctrl-C still works");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT (Ctrl-C)";
        }
    };
    let (mut term, mut hangup) = (term, hangup);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT (Ctrl-C)",
        _ = term.recv() => "SIGTERM",
        _ = hangup.recv() => "SIGHUP",
    }
}
