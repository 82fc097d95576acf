//! Every operation logs what it asked the cluster and how long it took.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use storpool_driver_core::Specs;

use crate::env;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The log of the whole test binary. A process-wide subscriber, not a per-thread one: the
/// interest tracing caches per call site is shared by all threads, so a thread-local
/// subscriber misses events whose call sites another test's thread registered first.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        tracing::callsite::rebuild_interest_cache();
        captured
    })
}

/// The captured lines of the operations on volume ids starting with `id`.
fn lines_of(id: &str) -> Vec<String> {
    let all = String::from_utf8_lossy(&captured().0.lock().unwrap()).into_owned();
    all.lines()
        .filter(|l| l.contains(&format!("target={id}")))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn each_operation_logs_its_calls_and_duration() {
    captured();
    let env = env();
    env.driver
        .create_volume("logged", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .extend_volume("logged-missing", 2)
        .await
        .unwrap_err();

    let lines = lines_of("logged");
    let text = lines.join("\n");
    let done = lines
        .iter()
        .find(|l| l.contains("StorPool driver operation done"))
        .unwrap_or_else(|| panic!("no operation line in:\n{text}"));
    assert!(done.contains("operation=\"create volume\""), "{done}");
    assert!(done.contains("VolumeCreate ok"), "{done}");
    assert!(done.contains("Volume ok"), "{done}");
    assert!(done.contains("elapsed_ms="), "{done}");
    let failed = lines
        .iter()
        .find(|l| l.contains("StorPool driver operation failed"))
        .unwrap_or_else(|| panic!("no failure line in:\n{text}"));
    assert!(
        failed.contains("VolumeUpdate objectDoesNotExist"),
        "{failed}"
    );
    assert!(failed.contains("extend volume"), "{failed}");
    assert!(
        failed.contains("does not exist"),
        "the cluster's description: {failed}"
    );
    // Every cluster call is logged with its time inside the operation's span.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("StorPool call") && l.contains("call=\"VolumeCreate\"")),
        "{text}"
    );
    assert!(
        !text.contains(env.sim.token()),
        "the token never appears in logs"
    );
}
