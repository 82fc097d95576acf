//! Every operation logs what it asked the cluster and how long it took.

use std::io;
use std::sync::{Arc, Mutex};

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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn each_operation_logs_its_calls_and_duration() {
    let env = env();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.extend_volume("missing", 2).await.unwrap_err();

    let text = captured.text();
    let done = text
        .lines()
        .find(|l| l.contains("StorPool driver operation done"))
        .unwrap_or_else(|| panic!("no operation line in:\n{text}"));
    assert!(done.contains("operation=\"create volume\""), "{done}");
    assert!(done.contains("VolumeCreate ok"), "{done}");
    assert!(done.contains("Volume ok"), "{done}");
    assert!(done.contains("elapsed_ms="), "{done}");
    let failed = text
        .lines()
        .find(|l| l.contains("StorPool driver operation failed"))
        .unwrap_or_else(|| panic!("no failure line in:\n{text}"));
    assert!(
        failed.contains("VolumeUpdate objectDoesNotExist"),
        "{failed}"
    );
    assert!(failed.contains("extend volume"), "{failed}");
    // Every cluster call is logged with its time inside the operation's span.
    assert!(
        text.lines()
            .any(|l| l.contains("StorPool call") && l.contains("call=\"VolumeCreate\"")),
        "{text}"
    );
    assert!(
        !text.contains(env.sim.token()),
        "the token never appears in logs"
    );
}
