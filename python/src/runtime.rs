//! Running a call's future to completion on the calling thread, with the GIL released.
//!
//! Each Python thread that calls into the module gets a current-thread Tokio runtime of its
//! own, made on its first call ([`storpool_api::blocking::Runtime`], the runtime of the
//! crates' blocking facades), and drives the call's sockets and timers itself. Calls from
//! several Python threads (eventlet's pool of native threads, under Cinder) proceed in
//! parallel, each on its own runtime. One multi-thread runtime shared by every thread, as the
//! module had before, handed every readiness event from a worker thread to the caller.
//! Sequential `Driver.get_volume` calls against a `storpool-sim` process on two cores: 5,600-
//! 7,400/s then, 8,600-10,100/s now against a server that closes its connections (a Python
//! client on a plain socket, making the same request: 9,300-11,700/s), and 11,700-15,200/s
//! then, 18,900-32,400/s now on kept-alive connections.
//!
//! Nothing runs between two calls, so nothing may be left to run: a call against a server that
//! closes its connections has closed its own when it returns (the API crate's tests check
//! it), and an idle keep-alive connection the server closed meanwhile is replaced by the next
//! call.
//!
//! Servers such as Cinder fork worker processes. A runtime made before the fork shares its
//! epoll instance with the parent and counts on threads that do not exist in the child, so a
//! process that finds a runtime made by another process makes its own; the inherited one is
//! leaked, never dropped (dropping it would wait for those threads).

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use storpool_api::blocking::Runtime;

thread_local! {
    /// This thread's runtime and the process that made it.
    static RUNTIME: RefCell<Option<(u32, Rc<Runtime>)>> = const { RefCell::new(None) };
}

/// This thread's runtime, made on first use (again after a fork).
fn runtime() -> PyResult<Rc<Runtime>> {
    RUNTIME.with(|slot| {
        let pid = pid();
        let mut slot = slot.borrow_mut();
        if let Some((owner, runtime)) = slot.as_ref()
            && *owner == pid
        {
            return Ok(Rc::clone(runtime));
        }
        let runtime = Rc::new(Runtime::new().map_err(|err| {
            PyRuntimeError::new_err(format!("cannot start the storpool_rs runtime: {err}"))
        })?);
        if let Some(inherited) = slot.replace((pid, Rc::clone(&runtime))) {
            // Made by the parent before a fork: never drop it.
            std::mem::forget(inherited);
        }
        Ok(runtime)
    })
}

/// Runs `future` to completion on this thread's runtime with the GIL released, so other
/// Python threads run meanwhile. A call made while this thread is already inside one (from a
/// Python signal handler that runs during an image copy) is a `RuntimeError`, not a panic.
pub(crate) fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime()?;
    let runtime: &Runtime = &runtime;
    let output = py.detach(|| runtime.block_on(future)).map_err(|err| {
        PyRuntimeError::new_err(if err.is_inside_runtime() {
            "a storpool_rs call was made while another one runs on the same thread (from a \
             signal handler during an image copy?): make it after that call returns"
                .to_owned()
        } else {
            err.to_string()
        })
    });
    crate::logging::flush(py);
    output
}

/// The id of this process, to tell objects made before a fork from those made after.
pub(crate) fn pid() -> u32 {
    std::process::id()
}
