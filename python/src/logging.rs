//! The crates' `tracing` events into Python's `logging`, under the logger `storpool_rs`.
//!
//! Events are queued where they happen (any thread, without the GIL) and handed to Python's
//! `logging` by the thread that made the call, once the call is over and that thread holds
//! the GIL again. No Rust thread ever takes the GIL for logging: under eventlet (Cinder),
//! logging handlers hold green locks that foreign threads must not touch, and a worker thread
//! waiting for the GIL could stall the runtime. The queue is bounded; what does not fit is
//! counted and reported once.
//!
//! The level: events below the effective level of the `storpool_rs` logger (read again at
//! every hand-over) are not even formatted.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::types::PyModule;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// The root of the Python loggers events go to (`storpool_rs.<crate>.<module>`).
const ROOT_LOGGER: &str = "storpool_rs";

/// At most this many events wait for a hand-over.
const MAX_QUEUED: usize = 10_000;

struct Record {
    level: Level,
    target: String,
    message: String,
}

static QUEUE: Mutex<VecDeque<Record>> = Mutex::new(VecDeque::new());
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// The most verbose level to keep: 1 error .. 5 trace (`rank`).
static MAX_LEVEL: AtomicU8 = AtomicU8::new(3);

fn rank(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Python's number for a level (`logging.ERROR` is 40 ... `DEBUG` 10; trace is 5).
fn python_level(level: Level) -> u8 {
    match level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// The most verbose rank a Python effective level lets through.
fn rank_of_python_level(level: i64) -> u8 {
    match level {
        ..=5 => 5,
        6..=10 => 4,
        11..=20 => 3,
        21..=30 => 2,
        _ => 1,
    }
}

/// Collects an event's message and its other fields as `key=value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// The layer that queues events.
struct Queue;

impl<S: Subscriber> Layer<S> for Queue {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        rank(*metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        fields.message.push_str(&fields.rest);
        let record = Record {
            level: *metadata.level(),
            target: metadata.target().replace("::", "."),
            message: fields.message,
        };
        let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= MAX_QUEUED {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        } else {
            queue.push_back(record);
        }
    }
}

/// Hands the queued events to Python's `logging` (call with the GIL, after a call), and
/// reads the `storpool_rs` logger's level again. A failure to log is not the caller's
/// failure: it is dropped.
pub(crate) fn flush(py: Python<'_>) {
    let records: Vec<Record> = {
        let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
        queue.drain(..).collect()
    };
    let Ok(logging) = PyModule::import(py, "logging") else {
        return;
    };
    let logger = |name: &str| logging.call_method1("getLogger", (name,));
    if let Ok(root) = logger(ROOT_LOGGER)
        && let Ok(level) = root
            .call_method0("getEffectiveLevel")
            .and_then(|l| l.extract::<i64>())
    {
        MAX_LEVEL.store(rank_of_python_level(level), Ordering::Relaxed);
    }
    for record in records {
        let name = format!("{ROOT_LOGGER}.{}", record.target);
        if let Ok(target) = logger(&name) {
            let _ = target.call_method1("log", (python_level(record.level), "%s", record.message));
        }
    }
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0
        && let Ok(root) = logger(ROOT_LOGGER)
    {
        let _ = root.call_method1(
            "warning",
            (
                "%d log events were dropped: more than %d waited at once",
                dropped,
                MAX_QUEUED,
            ),
        );
    }
}

/// Installs the queueing layer as the process's tracing subscriber (unless the program
/// embedding Python already set one) and reads the logger's level.
pub(crate) fn register(module: &Bound<'_, PyModule>) {
    let subscriber = tracing_subscriber::registry().with(Queue);
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        // Another subscriber owns the process's events; ours stays out of the way.
    }
    flush(module.py());
}
