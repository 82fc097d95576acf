//! The token never shows in Debug output, errors or logs; logs carry method, path, status,
//! duration and attempt.

use std::io::Write;
use std::sync::{Arc, Mutex};

use storpool_api::{Client, RetryPolicy};
use tracing_subscriber::fmt::MakeWriter;
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::{TOKEN, api_error, builder, data, server};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn logs_show_each_attempt_and_never_the_token() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(api_error(500, "busy", "no quorum", true))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(data(serde_json::json!([])))
        .expect(1)
        .mount(&server)
        .await;
    builder(&server)
        .build()
        .unwrap()
        .volumes()
        .list()
        .await
        .unwrap();

    let logs = capture.text();
    assert!(
        !logs.contains(TOKEN),
        "the token leaked into the logs:\n{logs}"
    );
    assert!(logs.contains("retrying StorPool API call"), "{logs}");
    assert!(logs.contains("method=GET"), "{logs}");
    assert!(
        logs.contains("path=\"VolumesList\"") || logs.contains("path=VolumesList"),
        "{logs}"
    );
    assert!(
        logs.contains("status=500") && logs.contains("status=200"),
        "{logs}"
    );
    assert!(
        logs.contains("attempt=1") && logs.contains("attempt=2"),
        "{logs}"
    );
    assert!(logs.contains("elapsed_ms="), "{logs}");
}

#[tokio::test]
async fn errors_and_debug_output_never_show_the_token() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(api_error(500, "invalidParam", "bad token", false))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client.volumes().list().await.unwrap_err();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .volumes()
        .list()
        .await
        .unwrap_err();
    for text in [
        format!("{client:?}"),
        format!("{err} {err:?} {err:#}"),
        format!("{refused} {refused:?}"),
        format!("{:?}", builder(&server)),
    ] {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
    }
}
