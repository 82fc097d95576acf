//! The client's own HTTP/1.1 connections to `http://` servers: reuse while the server keeps
//! them open, never after `Connection: close`, a fresh one when an idle one was closed, and
//! every way an answer's body can be framed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use storpool_api::{Client, RetryPolicy};
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

/// Reads one request head (the client's GETs have no body); `false` at the end of the stream.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
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
                while read_head(&mut stream).await {
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
