//! Ctrl-C, SIGTERM and SIGHUP as one future, so every command stops cleanly on any of them.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// Listens for SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal) from this call on, so that a
/// command can listen before it announces that it is ready; resolves with the first one's name.
pub fn interrupted() -> impl Future<Output = &'static str> {
    let listening = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    async move {
        match listening {
            (Ok(mut int), Ok(mut term), Ok(mut hangup)) => tokio::select! {
                _ = int.recv() => "SIGINT (Ctrl-C)",
                _ = term.recv() => "SIGTERM",
                _ = hangup.recv() => "SIGHUP",
            },
            (Err(error), ..) | (_, Err(error), _) | (.., Err(error)) => {
                tracing::warn!(%error, "cannot listen for SIGTERM and SIGHUP; Ctrl-C still works");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT (Ctrl-C)"
            }
        }
    }
}
