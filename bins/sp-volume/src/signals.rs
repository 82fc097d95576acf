//! Ctrl-C for the commands that make things they must clean up (`import-image`,
//! `export-image`, `demo`): it cancels the command's token, which stops whatever step is under
//! way and runs the command's cleanup. Other commands keep the default: they end at once.

use storpool_image::CancellationToken;

use crate::cli::Command;

/// Whether `command` makes things it must remove when stopped.
pub(crate) fn cleans_up(command: &Command) -> bool {
    matches!(
        command,
        Command::ImportImage { .. } | Command::ExportImage { .. } | Command::Demo { .. }
    )
}

/// Cancels `cancel` on Ctrl-C.
pub(crate) fn watch(cancel: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
}
