//! The client's HTTP/1.1 connections (hyper-util's pool): reuse while the server keeps them
//! open, never after `Connection: close`, a fresh one when an idle one was closed, every way
//! an answer's body can be framed, and what a failed exchange looks like.

use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use storpool_api::{ApiError, Client, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::TOKEN;

const LIST: &str = r#"{"generation":3,"data":[]}"#;

/// What the test server does with each request on a connection.
#[derive(Clone, Copy)]
enum Answer {
    /// `Content-Length`, connection kept open.
    KeepAlive,
    /// `Content-Length` and `Connection: close`, but the socket is left open (the client must
    /// not reuse it anyway).
    SaysClose,
    /// `Content-Length`, then the server closes the connection.
    ThenClose,
    /// `Transfer-Encoding: chunked`, kept open.
    Chunked,
    /// No length: the body ends when the server closes the connection.
    UntilClose,
}

/// Reads one request head (the client's GETs have no body); `None` at the end of the stream.
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// A server answering every request with `answer`; returns its port and the number of
/// connections it accepted.
async fn server(answer: Answer) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    // Connections kept open without being served any more.
    let parked = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let parked = parked.clone();
            tokio::spawn(async move {
                while read_head(&mut stream).await.is_some() {
                    let len = LIST.len();
                    let reply = match answer {
                        Answer::KeepAlive | Answer::ThenClose => {
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n{LIST}")
                        }
                        Answer::SaysClose => format!(
                            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {len}\r\n\r\n{LIST}"
                        ),
                        Answer::Chunked => {
                            let (a, b) = LIST.split_at(10);
                            format!(
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                                a.len(),
                                b.len()
                            )
                        }
                        Answer::UntilClose => format!("HTTP/1.1 200 OK\r\n\r\n{LIST}"),
                    };
                    stream.write_all(reply.as_bytes()).await.unwrap();
                    match answer {
                        Answer::ThenClose | Answer::UntilClose => {
                            stream.shutdown().await.unwrap();
                            break;
                        }
                        // Keep the socket open for as long as the server runs.
                        Answer::SaysClose => {
                            parked.lock().await.push(stream);
                            return;
                        }
                        Answer::KeepAlive | Answer::Chunked => {}
                    }
                }
            });
        }
    });
    (port, accepted)
}

fn client(port: u16) -> Client {
    Client::builder()
        .base_url(format!("http://localhost:{port}"))
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn sequential_calls_reuse_one_keep_alive_connection() {
    let (port, accepted) = server(Answer::KeepAlive).await;
    let client = client(port);
    for _ in 0..20 {
        assert!(client.volumes().list().await.unwrap().is_empty());
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_server_says_it_closes_is_not_reused() {
    let (port, accepted) = server(Answer::SaysClose).await;
    let client = client(port);
    for _ in 0..3 {
        assert!(client.volumes().list().await.unwrap().is_empty());
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

/// While the server closes every connection, each call opens its own and sends the path only
/// (origin form) in its request line; once an answer keeps the connection open, calls share
/// one pooled connection again.
#[tokio::test]
async fn calls_follow_the_server_from_closing_connections_to_keeping_them() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (counter, served, seen) = (accepted.clone(), answered.clone(), lines.clone());
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let (served, seen) = (served.clone(), seen.clone());
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut stream).await {
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap()
                        .to_owned();
                    seen.lock().unwrap().push(line);
                    // The first three answers close their connection.
                    let closing = served.fetch_add(1, Ordering::SeqCst) < 3;
                    let len = LIST.len();
                    let connection = if closing { "Connection: close\r\n" } else { "" };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\n{connection}Content-Length: {len}\r\n\r\n{LIST}"
                    );
                    stream.write_all(reply.as_bytes()).await.unwrap();
                    if closing {
                        stream.shutdown().await.unwrap();
                        return;
                    }
                }
            });
        }
    });
    let client = client(port);
    for _ in 0..8 {
        assert!(client.volumes().list().await.unwrap().is_empty());
    }
    // Three closed by the server; the fourth call still expected a close and had a connection
    // of its own, kept open by the server but not pooled; calls 5 to 8 share one.
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 8);
    for line in lines.iter() {
        assert_eq!(line, "GET /ctrl/1.0/VolumesList HTTP/1.1");
    }
}

#[tokio::test]
async fn an_idle_connection_the_server_closed_is_replaced_without_an_error() {
    let (port, accepted) = server(Answer::ThenClose).await;
    let client = client(port);
    for _ in 0..5 {
        // No retries: the closed connection must never be used for a request.
        assert!(client.volumes().list().await.unwrap().is_empty());
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn chunked_and_close_delimited_answers_are_read_whole() {
    for answer in [Answer::Chunked, Answer::UntilClose] {
        let (port, _) = server(answer).await;
        let client = client(port);
        for _ in 0..3 {
            assert!(client.volumes().list().await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_ending_with_the_os_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .volumes()
        .list()
        .await
        .unwrap_err();
    let ApiError::Transport { source, .. } = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert!(source.is_connect() && !source.is_timeout(), "{source:?}");
    // The chain as a binary prints it: our words, then the system's, each once.
    let mut chain = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(next) = cause {
        chain.push(next.to_string());
        cause = next.source();
    }
    let chain = chain.join(": ");
    assert!(
        chain
            .ends_with("got no usable response: cannot connect: Connection refused (os error 111)"),
        "{chain}"
    );
}

#[tokio::test]
async fn an_answer_cut_short_is_an_incomplete_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            if read_head(&mut stream).await.is_some() {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"data\"")
                    .await;
            }
        }
    });
    let err = client(port).volumes().list().await.unwrap_err();
    let ApiError::Transport { source, .. } = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert!(source.is_incomplete(), "{source:?}");
    // The server had answered (the status line came): the call may have had its effect.
    assert!(!err.is_transient());
}

/// `https://` goes through the TLS connector of the enabled feature: a server that speaks
/// plain HTTP fails the handshake, as a transport error.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
#[tokio::test]
async fn https_to_a_plain_http_server_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let err = Client::builder()
        .base_url(format!("https://127.0.0.1:{port}"))
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .volumes()
        .list()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
#[test]
fn without_tls_features_https_is_refused_when_the_client_is_built() {
    let err = Client::builder()
        .base_url("https://127.0.0.1:8443")
        .token(TOKEN)
        .build()
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
}

/// Pooled connections are driven by the runtime that opened them. A client shared by two
/// runtimes (a `blocking::Client` made from an async one, tests with a runtime each) must not
/// hand a call on one runtime a connection of the other, which nothing drives while that
/// runtime is idle: the call would wait for its time limit.
#[test]
fn a_client_shared_by_two_runtimes_does_not_wait_on_the_idle_one() {
    let sim = storpool_sim::Sim::builder()
        .keep_alive(true)
        .start()
        .unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .timeout(std::time::Duration::from_secs(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let (first, second) = (runtime(), runtime());
    for round in 0..3 {
        for (which, rt) in [("first", &first), ("second", &second)] {
            let listed = rt.block_on(client.volumes().list());
            assert!(
                listed.is_ok(),
                "round {round}, {which} runtime: {:?}",
                listed.unwrap_err()
            );
        }
    }
    // A third runtime, with concurrent calls, then the first again: each switch starts a pool
    // of its own, and every call is answered.
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    multi.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.volumes().list().await.map(|v| v.len()) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 0);
        }
    });
    assert_eq!(first.block_on(client.volumes().list()).unwrap().len(), 0);
}

/// Each Python thread calling the Python module drives a runtime of its own: calls that
/// alternate between runtimes keep one connection per runtime open, where starting a new pool
/// at every switch made nearly every call from eight threads open a new connection (half the
/// calls per second).
#[test]
fn calls_alternating_between_runtimes_reuse_each_runtimes_connection() {
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (port, accepted) = server_runtime.block_on(server(Answer::KeepAlive));
    let client = client(port);
    let runtimes: Vec<_> = (0..3)
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        })
        .collect();
    for _ in 0..10 {
        for runtime in &runtimes {
            assert!(
                runtime
                    .block_on(client.volumes().list())
                    .unwrap()
                    .is_empty()
            );
        }
    }
    assert_eq!(accepted.load(Ordering::SeqCst), runtimes.len());
}

/// Against a server that closes every connection (StorPool's), a call that runs out of time
/// closes its connection at once: nothing is left open, waiting for an answer no one will read.
#[tokio::test]
async fn a_call_out_of_time_closes_its_connection_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        // The first call is answered, saying the server closes its connections.
        let (mut stream, _) = listener.accept().await.unwrap();
        read_head(&mut stream).await.unwrap();
        let len = LIST.len();
        let reply =
            format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {len}\r\n\r\n{LIST}");
        stream.write_all(reply.as_bytes()).await.unwrap();
        drop(stream);
        // The second is never answered; the server only watches for the client's close.
        let (mut stream, _) = listener.accept().await.unwrap();
        read_head(&mut stream).await.unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        closed_tx.send(()).unwrap();
    });
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .timeout(std::time::Duration::from_secs(1))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(client.volumes().list().await.unwrap().is_empty());
    let err = client.volumes().list().await.unwrap_err();
    assert!(matches!(err, ApiError::Timeout { .. }), "{err:?}");
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), closed_rx.recv()).await;
    assert!(
        closed.is_ok(),
        "the connection of the call that timed out was still open 5 s later"
    );
}

/// On a current-thread runtime (what `blocking::Client` and the Python module run calls on)
/// nothing runs between calls. A call against a server that closes every connection
/// (StorPool's) must therefore have closed its connection when it returns: left to a task
/// of its own, the socket stayed open (the server's end in `FIN_WAIT2`) until the next call.
#[test]
fn a_call_on_a_current_thread_runtime_has_closed_its_connection_when_it_returns() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            let len = LIST.len();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {len}\r\n\r\n{LIST}"
            );
            stream.write_all(reply.as_bytes()).unwrap();
            // The server leaves its end open and watches for the client's close.
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let closed = matches!(stream.read(&mut byte), Ok(0));
            closed_tx.send(closed).unwrap();
        }
    });
    let client = client(port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for call in ["first", "second"] {
        assert!(
            runtime
                .block_on(client.volumes().list())
                .unwrap()
                .is_empty()
        );
        // The runtime does not run again until the server has seen the close or given up.
        assert_eq!(
            closed_rx.recv(),
            Ok(true),
            "the {call} call's connection was still open 5 s after the call returned"
        );
    }
}
