//! Which faults are retried, how often, and that the body is identical on every attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use storpool_api::{ApiError, Client, RetryPolicy, VolumeCreate, VolumeName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::{AUTH, TOKEN, api_error, builder, data, server};

fn create_request() -> VolumeCreate {
    VolumeCreate {
        name: Some(VolumeName::new("os--volume-r").unwrap()),
        size: Some(1 << 30),
        replication: Some(3),
        ..VolumeCreate::default()
    }
}

const CREATED: &str = r#"{"generation":9,"data":{"ok":true,"generation":9,"globalId":"d.n.r1"}}"#;

#[tokio::test]
async fn transient_errors_are_retried_with_the_same_body_until_success() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/ctrl/1.0/VolumeCreate"))
        .respond_with(api_error(500, "busy", "cluster busy, try again", true))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/ctrl/1.0/VolumeCreate"))
        .respond_with(data(
            json!({"ok": true, "generation": 9, "globalId": "d.n.r1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let created = client.volumes().create(&create_request()).await.unwrap();
    assert_eq!(created.global_id.as_deref(), Some("d.n.r1"));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    let first = &requests[0].body;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(first).unwrap(),
        json!({"name": "os--volume-r", "size": 1_073_741_824, "replication": 3})
    );
    for request in &requests {
        assert_eq!(&request.body, first, "every attempt sends the same bytes");
        assert_eq!(request.headers.get("authorization").unwrap(), AUTH);
    }
}

#[tokio::test]
async fn non_transient_errors_fail_at_once() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/ctrl/1.0/VolumeCreate"))
        .respond_with(api_error(500, "objectExists", "exists", false))
        .expect(1)
        .mount(&server)
        .await;
    let err = builder(&server)
        .build()
        .unwrap()
        .volumes()
        .create(&create_request())
        .await
        .unwrap_err();
    assert!(err.is_object_exists());
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn exhausted_retries_return_the_last_error_with_the_attempt_count() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(api_error(500, "busy", "no quorum", true))
        .expect(3)
        .mount(&server)
        .await;
    let client = builder(&server)
        .retry(RetryPolicy::immediate(2))
        .build()
        .unwrap();
    let err = client.volumes().list().await.unwrap_err();
    assert!(err.is_transient() && err.is_busy());
    assert_eq!(err.attempts(), 3);
    assert!(err.to_string().contains("(after 3 attempts in "), "{err}");
}

#[tokio::test]
async fn no_retries_with_the_none_policy() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(api_error(500, "busy", "no quorum", true))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).retry(RetryPolicy::none()).build().unwrap();
    let err = client.volumes().list().await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn decode_errors_are_not_retried() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let err = builder(&server)
        .build()
        .unwrap()
        .volumes()
        .list()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Decode { .. }));
    assert!(!err.is_transient());
}

#[tokio::test]
async fn the_deadline_stops_retries_before_a_wait_that_would_pass_it() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .respond_with(api_error(500, "busy", "no quorum", true))
        .expect(1)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        retries: 5,
        base_delay: Duration::from_mins(1),
        max_delay: Duration::from_mins(1),
        deadline: None,
    }
    .with_deadline(Duration::from_secs(1));
    let client = builder(&server).retry(policy).build().unwrap();
    let err = client.volumes().list().await.unwrap_err();
    assert!(err.is_busy());
    assert_eq!(err.attempts(), 1);
}

fn local_client(port: u16, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .retry(policy)
        .build()
        .unwrap()
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = local_client(port, RetryPolicy::immediate(2))
        .volumes()
        .list()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(err.attempts(), 3);
    let err = local_client(port, RetryPolicy::none())
        .volumes()
        .list()
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 1);
}

/// Reads one request; returns its body.
async fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a full request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            let mut body = buf[end + 4..].to_vec();
            while body.len() < length {
                let n = stream.read(&mut chunk).await.unwrap();
                body.extend_from_slice(&chunk[..n]);
            }
            return body;
        }
    }
}

/// A server whose first connection is closed without an answer, whose second gets bytes that
/// are not HTTP, and whose third gets a good answer. Returns the port, the bodies received,
/// and the number of connections accepted.
async fn flaky_server() -> (u16, Arc<tokio::sync::Mutex<Vec<Vec<u8>>>>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let accepted = Arc::new(AtomicUsize::new(0));
    let (bodies2, accepted2) = (bodies.clone(), accepted.clone());
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let n = accepted2.fetch_add(1, Ordering::SeqCst);
            let body = read_request(&mut stream).await;
            bodies2.lock().await.push(body);
            match n {
                0 => drop(stream),
                1 => {
                    stream.write_all(b"SPAM SPAM SPAM\r\n\r\n").await.unwrap();
                    drop(stream);
                }
                _ => {
                    let response = format!(
                        "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{CREATED}",
                        CREATED.len()
                    );
                    stream.write_all(response.as_bytes()).await.unwrap();
                    stream.shutdown().await.unwrap();
                }
            }
        }
    });
    (port, bodies, accepted)
}

#[tokio::test]
async fn protocol_errors_are_retried_with_the_same_body() {
    let (port, bodies, accepted) = flaky_server().await;
    let created = local_client(port, RetryPolicy::immediate(5))
        .volumes()
        .create(&create_request())
        .await
        .unwrap();
    assert_eq!(created.global_id.as_deref(), Some("d.n.r1"));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    let bodies = bodies.lock().await;
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|body| body == &bodies[0]));
    assert!(!bodies[0].is_empty());
}

#[tokio::test]
async fn timeouts_are_not_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let accepted2 = accepted.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        let mut done = done_rx;
        loop {
            tokio::select! {
                Ok((stream, _)) = listener.accept() => {
                    accepted2.fetch_add(1, Ordering::SeqCst);
                    held.push(stream);
                }
                _ = &mut done => break,
            }
        }
    });
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::immediate(3))
        .build()
        .unwrap();
    let err = client.services().list().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(err.attempts(), 1);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert!(err.to_string().contains("timed out after 0.2 s"), "{err}");
    done_tx.send(()).unwrap();
}
