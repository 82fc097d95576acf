//! Running `qemu-img`: a child process with an argument vector (never a shell) that dies with
//! us, whose progress is read from its stdout and whose errors from its stderr, and that is
//! killed and waited for when the operation is cancelled.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::error::{FileKind, ImageError, QemuImgError};
use crate::types::{CopyOptions, ImageInfo, Progress};

/// The program the operations run, looked up on `PATH`.
pub const QEMU_IMG: &str = "qemu-img";

/// How a run of `qemu-img` ended when it did not succeed.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// It is missing, could not be started, or failed.
    Failed(QemuImgError),
    /// Cancelled: it was killed and waited for.
    Interrupted,
}

impl Stopped {
    /// The error for an operation that was doing `action`.
    pub(crate) fn into_error(self, action: &str) -> ImageError {
        match self {
            Self::Failed(err) => ImageError::qemu_img(action, err),
            Self::Interrupted => ImageError::interrupted(action),
        }
    }
}

pub(crate) fn words(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// Makes the child get `SIGKILL` when its parent goes away, even by `kill -9` (Linux
/// `PR_SET_PDEATHSIG`), so that a copy never goes on writing into a volume nobody will detach.
///
/// This is the crate's only unsafe code, and the reason it denies `unsafe_code` rather than
/// forbidding it: the death signal must be set in the child, between fork and exec, and the
/// only hook there is `CommandExt::pre_exec`, which is unsafe. Neither std, tokio nor rustix
/// offers a safe way to ask for it, and a wrapper program (`setpriv --pdeathsig`) may be
/// missing.
///
/// The kernel sends the signal when the *thread* that spawned the child ends. The operations
/// spawn `qemu-img` on the thread that polls them and wait for it there (or on another thread
/// of the same runtime, which lives as long as the runtime), so that thread outlives the child
/// unless the whole process goes.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    let parent = rustix::process::getpid();
    let hook = move || -> std::io::Result<()> {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
        // The parent may have died before the death signal was set: then nobody else will
        // send it.
        if rustix::process::getppid() != Some(parent) {
            return Err(rustix::io::Errno::SRCH.into());
        }
        Ok(())
    };
    // SAFETY: `pre_exec` runs the hook in the forked child before exec, where only
    // async-signal-safe work is allowed. The hook makes three plain system calls through
    // rustix (prctl, getppid; getpid ran before the fork), allocates nothing (an `Errno`
    // converts into `io::Error` without allocating), takes no lock and touches no memory
    // shared with the parent but the captured pid, a plain integer.
    unsafe {
        command.pre_exec(hook);
    }
}

/// Runs `qemu-img ARGS...` and returns its stdout. With `progress`, `-p` output on its stdout
/// is parsed and reported; its stderr becomes the error message when it fails. Cancelling
/// `cancel` kills it and waits for it.
pub(crate) async fn run(
    program: &Path,
    args: &[OsString],
    cancel: &CancellationToken,
    progress: Option<&(dyn Fn(&Progress) + Send + Sync)>,
) -> Result<Vec<u8>, Stopped> {
    if cancel.is_cancelled() {
        return Err(Stopped::Interrupted);
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group: a terminal's Ctrl-C reaches the caller only, which decides
        // (through `cancel`) when it stops, and cleans up knowing why.
        .process_group(0);
    die_with_parent(&mut command);
    let mut child = command.spawn().map_err(|err| {
        Stopped::Failed(match err.kind() {
            std::io::ErrorKind::NotFound => QemuImgError::Missing {
                program: program.to_owned(),
            },
            _ => QemuImgError::Spawn(err),
        })
    })?;
    tracing::debug!(command = ?args, pid = child.id(), "running qemu-img");
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let outcome = tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        outcome = async {
            tokio::join!(read_stdout(stdout, progress), read_all(stderr), child.wait())
        } => Some(outcome),
    };
    let Some((stdout, stderr, status)) = outcome else {
        tracing::info!(pid = child.id(), "cancelled: stopping qemu-img");
        if let Err(err) = child.kill().await {
            tracing::warn!(%err, "could not stop qemu-img");
        }
        return Err(Stopped::Interrupted);
    };
    let status = status.map_err(|err| Stopped::Failed(QemuImgError::Wait(err)))?;
    let stdout = stdout.map_err(|err| Stopped::Failed(QemuImgError::Wait(err)))?;
    if status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&stderr.unwrap_or_default()).into_owned();
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = if message.is_empty() {
        format!("`{}` failed ({status})", program.display())
    } else {
        message
    };
    Err(Stopped::Failed(QemuImgError::Failed { status, message }))
}

/// Reads all of `pipe`.
async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut bytes).await?;
    }
    Ok(bytes)
}

/// Reads all of `pipe`, reporting each `(N.NN/100%)` that `qemu-img -p` prints.
async fn read_stdout(
    pipe: Option<impl AsyncRead + Unpin>,
    progress: Option<&(dyn Fn(&Progress) + Send + Sync)>,
) -> std::io::Result<Vec<u8>> {
    let Some(mut pipe) = pipe else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 4096];
    let mut scanned = 0;
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&chunk[..n]);
        let Some(report) = progress else {
            continue;
        };
        // Whole segments only: `qemu-img` ends each report with `\r` (the last with `\n`).
        while let Some(end) = bytes[scanned..]
            .iter()
            .position(|b| *b == b'\r' || *b == b'\n')
        {
            let segment = &bytes[scanned..scanned + end];
            if let Some(fraction) = parse_progress(segment) {
                report(&Progress::Copied { fraction });
            }
            scanned += end + 1;
        }
    }
}

/// The share done in one `qemu-img -p` report, `    (12.50/100%)`.
pub(crate) fn parse_progress(segment: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(segment).ok()?.trim();
    let percent: f64 = text
        .strip_prefix('(')?
        .strip_suffix("/100%)")?
        .trim()
        .parse()
        .ok()?;
    percent
        .is_finite()
        .then(|| (percent / 100.0).clamp(0.0, 1.0))
}

/// Checks that `path` is something `qemu-img` can read an image from: a regular file or a
/// block device (a FIFO would hang it, `/dev/zero` reads as an empty image).
pub(crate) async fn check_source(path: &Path) -> Result<(), ImageError> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|source| ImageError::Source {
            path: path.to_owned(),
            source,
        })?;
    match FileKind::of_meta(&meta) {
        None | Some(FileKind::BlockDevice) => Ok(()),
        Some(kind) => Err(ImageError::NotAnImage {
            path: path.to_owned(),
            kind,
        }),
    }
}

/// The format and virtual size of an image (`qemu-img info`). Only a regular file or a block
/// device is read; an image with a backing file, an external data file or extents in other
/// files, or encryption is refused, since it would not copy as one self-contained disk (and
/// would copy other files of this node into the volume). `format` (e.g. `qcow2`) skips format detection; give it
/// for images from untrusted sources.
///
/// Only [`CopyOptions::cancel`] and [`CopyOptions::qemu_img`] of `options` matter here.
pub async fn info(
    path: &Path,
    format: Option<&str>,
    options: &CopyOptions,
) -> Result<ImageInfo, ImageError> {
    check_source(path).await?;
    let action = format!("cannot read the image {}", path.display());
    let mut args = words(&["info", "--output=json"]);
    if let Some(format) = format {
        args.extend(words(&["-f", format]));
    }
    args.push(path.into());
    let invalid = |reason: String| ImageError::InvalidImage {
        path: path.to_owned(),
        reason,
    };
    let stdout = match run(&options.qemu_img, &args, &options.cancel, None).await {
        Ok(stdout) => stdout,
        Err(Stopped::Failed(QemuImgError::Failed { message, .. })) => return Err(invalid(message)),
        Err(stopped) => return Err(stopped.into_error(&action)),
    };
    let parsed: serde_json::Value = serde_json::from_slice(&stdout).map_err(|err| {
        invalid(format!(
            "`{QEMU_IMG} info` printed something that is not JSON ({err})"
        ))
    })?;
    let (Some(format), Some(virtual_size)) =
        (parsed["format"].as_str(), parsed["virtual-size"].as_u64())
    else {
        return Err(invalid(format!(
            "`{QEMU_IMG} info` gave no format or virtual size"
        )));
    };
    if let Some(backing) = parsed["backing-filename"].as_str() {
        return Err(ImageError::BackingFile {
            path: path.to_owned(),
            backing: backing.to_owned(),
        });
    }
    if let Some(other) = other_file(&parsed) {
        return Err(ImageError::ExternalFile {
            path: path.to_owned(),
            other,
        });
    }
    if parsed["encrypted"].as_bool() == Some(true) {
        return Err(ImageError::Encrypted {
            path: path.to_owned(),
        });
    }
    Ok(ImageInfo {
        path: path.to_owned(),
        format: format.to_owned(),
        virtual_size,
    })
}

/// A file other than the image itself that `qemu-img info` says the image reads: a qcow2
/// external data file (`format-specific.data.data-file`), or any file among the nodes under it
/// (vmdk extents, data-file children) that is not the image's own.
fn other_file(info: &serde_json::Value) -> Option<String> {
    if let Some(data_file) = info["format-specific"]["data"]["data-file"].as_str() {
        return Some(data_file.to_owned());
    }
    let own = info["filename"].as_str()?;
    let mut nodes: Vec<&serde_json::Value> = vec![info];
    while let Some(node) = nodes.pop() {
        for extent in node["format-specific"]["data"]["extents"]
            .as_array()
            .into_iter()
            .flatten()
        {
            match extent["filename"].as_str() {
                Some(name) if name != own => return Some(name.to_owned()),
                _ => {}
            }
        }
        for child in node["children"].as_array().into_iter().flatten() {
            let child = &child["info"];
            if child["format"].as_str() == Some("file")
                && let Some(name) = child["filename"].as_str()
                && name != own
            {
                return Some(name.to_owned());
            }
            nodes.push(child);
        }
    }
    None
}

/// What the target of a conversion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// A device that reads as zeros, a fresh volume (`-n --target-is-zero`: zero runs are not
    /// written at all).
    Zeroed,
    /// A device with unknown content (`-n`: zero runs are written as zeros).
    Existing,
    /// A file to create.
    New,
}

/// `qemu-img convert`: `source` (of `source_format`) into `target` as `target_format`, the
/// target as `destination` says; progress reported when asked for.
pub(crate) async fn convert(
    source: &Path,
    source_format: &str,
    target: &Path,
    target_format: &str,
    destination: Destination,
    options: &CopyOptions,
) -> Result<(), Stopped> {
    let mut args = words(&["convert"]);
    match destination {
        Destination::Zeroed => args.extend(words(&["-n", "--target-is-zero"])),
        Destination::Existing => args.extend(words(&["-n"])),
        Destination::New => {}
    }
    args.extend(words(&["-f", source_format, "-O", target_format]));
    if options.progress.is_some() {
        args.extend(words(&["-p"]));
    }
    args.extend([source.into(), target.into()]);
    run(
        &options.qemu_img,
        &args,
        &options.cancel,
        options.progress.as_deref(),
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reports_parse_to_fractions() {
        assert_eq!(parse_progress(b"    (0.00/100%)"), Some(0.0));
        assert_eq!(parse_progress(b"    (12.50/100%)"), Some(0.125));
        assert_eq!(parse_progress(b"(100.00/100%)"), Some(1.0));
        for junk in [
            &b""[..],
            b"hello",
            b"(x/100%)",
            b"(NaN/100%)",
            b"(12/50%)",
            b"\xff",
        ] {
            assert_eq!(parse_progress(junk), None, "{junk:?}");
        }
    }
}
