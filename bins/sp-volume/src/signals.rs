//! Signals for the commands that make things they must clean up (`import-image`,
//! `export-image`, `demo`): SIGINT (Ctrl-C), SIGTERM (what systemd and Kubernetes send) and
//! SIGHUP (a closed terminal) cancel the command's token, which stops whatever step is under
//! way, `qemu-img` included, and runs the command's cleanup; the command then exits 128 + the
//! signal. A second signal during the cleanup ends the process at once (`qemu-img` dies with
//! it; what the cleanup had not removed yet stays). Other commands keep the default: a signal
//! ends them at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use storpool_image::CancellationToken;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::cli::Command;
use crate::output;

/// Whether `command` makes things it must remove when stopped.
pub(crate) fn cleans_up(command: &Command) -> bool {
    matches!(
        command,
        Command::ImportImage { .. } | Command::ExportImage { .. } | Command::Demo { .. }
    )
}

/// The first signal received, if any.
#[derive(Clone, Debug, Default)]
pub(crate) struct Received(Arc<AtomicU8>);

impl Received {
    /// The signal's number.
    pub(crate) fn get(&self) -> Option<u8> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

/// The handlers of SIGINT, SIGTERM and SIGHUP.
struct Handlers {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl Handlers {
    /// The next signal: its number and name.
    async fn next(&mut self) -> (u8, &'static str) {
        tokio::select! {
            _ = self.interrupt.recv() => (2, "SIGINT"),
            _ = self.terminate.recv() => (15, "SIGTERM"),
            _ = self.hangup.recv() => (1, "SIGHUP"),
        }
    }
}

/// Installs the handlers: the first signal cancels `cancel` (with a notice unless `quiet`),
/// a second one exits at once.
pub(crate) fn watch(cancel: CancellationToken, quiet: bool) -> std::io::Result<Received> {
    let mut handlers = Handlers {
        interrupt: signal(SignalKind::interrupt())?,
        terminate: signal(SignalKind::terminate())?,
        hangup: signal(SignalKind::hangup())?,
    };
    let received = Received::default();
    let first = received.clone();
    tokio::spawn(async move {
        let (number, name) = handlers.next().await;
        first.0.store(number, Ordering::SeqCst);
        if !quiet {
            output::note(&format!(
                "{name}: stopping and cleaning up (send it again to stop at once)"
            ));
        }
        cancel.cancel();
        let (number, _) = handlers.next().await;
        std::process::exit(128 + i32::from(number));
    });
    Ok(received)
}
