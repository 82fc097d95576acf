//! The module's one Tokio runtime, and running a future on it with the GIL released.
//!
//! One multi-thread runtime serves every call of every object in the process (its worker
//! threads drive sockets and timers; each call's future runs on the calling thread, so calls
//! from several Python threads proceed in parallel). It is made on first use, so importing
//! the module starts no thread. Servers such as Cinder fork worker processes: threads do not
//! survive a fork, so a process that finds a runtime made by its parent makes its own (the
//! parent's is leaked, never dropped: dropping it would wait for threads that do not exist
//! here).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// Worker threads: the calls themselves run on Python's threads; the workers only drive I/O
/// and timers, which two threads do with room to spare (bench `attach`/`api`).
const WORKER_THREADS: usize = 2;

struct Shared {
    pid: u32,
    runtime: Arc<Runtime>,
}

static RUNTIME: Mutex<Option<Shared>> = Mutex::new(None);

/// The runtime of this process.
pub(crate) fn runtime() -> PyResult<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(shared) = slot.as_ref()
        && shared.pid == pid
    {
        return Ok(Arc::clone(&shared.runtime));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("storpool-rs")
        .enable_all()
        .build()
        .map_err(|err| {
            pyo3::exceptions::PyRuntimeError::new_err(format!(
                "cannot start the storpool_rs runtime: {err}"
            ))
        })?;
    let runtime = Arc::new(runtime);
    if let Some(inherited) = slot.replace(Shared {
        pid,
        runtime: Arc::clone(&runtime),
    }) {
        // Made by the parent before a fork: its threads are not here; never drop it.
        std::mem::forget(inherited);
    }
    Ok(runtime)
}

/// Runs `future` to completion on the module's runtime with the GIL released, so other
/// Python threads run meanwhile.
pub(crate) fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime()?;
    let output = py.detach(|| runtime.block_on(future));
    crate::logging::flush(py);
    Ok(output)
}

/// The id of this process, to tell objects made before a fork from those made after.
pub(crate) fn pid() -> u32 {
    std::process::id()
}
