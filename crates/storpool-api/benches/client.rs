//! Micro-benchmark of the client's own overhead (not a test): small calls per second,
//! sequential and from 16 concurrent tasks sharing one client, against a tiny local keep-alive
//! HTTP/1.1 server that answers instantly and counts the TCP connections it accepts (proving
//! reuse), and against wiremock.
//!
//! Run with `cargo bench -p storpool-api`. The figures against the simulator, `VolumesList`
//! decoding with peak memory, and the comparison with the reference clients are the workspace
//! benchmarks (`benches/`, see `docs/benchmarks.md`).
// A bench binary prints its table; panicking on a broken setup is fine here, and counts
// far below 2^52 convert to f64 exactly.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss
)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use storpool_api::{Client, RetryPolicy, VolumeRef};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "1556129910218014736";

/// The `data` array of a `VolumesList` answer with `count` realistic volumes.
fn volumes_json(count: usize) -> String {
    let mut out = String::with_capacity(count * 700);
    out.push('[');
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        write!(
            out,
            r#"{{"name":"os--volume-{i:08x}-5f0c-4b7e-9a51-2d3c4e5f6a7b","globalId":"d.n.{i:x}","id":{i},"visibleVolumeId":{i},"size":10737418240,"replication":3,"parentName":"os--snap--none--snapshot-{p}","templateName":"hybrid","placeAll":"hdd","placeTail":"ssd","placeHead":"hdd","bw":"-","iops":{iops},"objectsCount":320,"creationTimestamp":1700000000,"tags":{{"qc":"tier1","owner":"project-{p}"}},"parentVolumeId":13200,"originalParentVolumeId":13200,"templateId":4,"flags":0,"firstNotParentObjectId":0,"reuseServer":false,"limitType":"total"}}"#,
            p = i / 7,
            iops = if i % 3 == 0 { "\"-\"".to_owned() } else { (i % 5000).to_string() },
        )
        .unwrap();
    }
    out.push(']');
    out
}

fn envelope(data: &str) -> String {
    format!(r#"{{"generation":1234,"data":{data}}}"#)
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut samples: Vec<f64>) -> Stats {
    samples.sort_by(f64::total_cmp);
    Stats {
        median: samples[samples.len() / 2],
        min: samples[0],
        max: samples[samples.len() - 1],
    }
}

/// Reads one request from a keep-alive connection; `false` at end of stream.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return false;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..end + 4 + length);
            return true;
        }
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A keep-alive HTTP/1.1 server answering every request with `body`; counts connections.
async fn keep_alive_server(body: Arc<Vec<u8>>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                stream.set_nodelay(true).unwrap();
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend_from_slice(&body);
                let mut buf = Vec::new();
                while read_request(&mut stream, &mut buf).await {
                    if stream.write_all(&response).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted)
}

fn client_for(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn calls_per_second(client: &Client, tasks: usize, calls_per_task: usize) -> f64 {
    let volume = VolumeRef::new("os--volume-00000001-5f0c-4b7e-9a51-2d3c4e5f6a7b").unwrap();
    // Warm-up (opens the connections).
    for _ in 0..tasks.min(4) {
        client.volumes().get(&volume).await.unwrap();
    }
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let client = client.clone();
            let volume = volume.clone();
            tokio::spawn(async move {
                for _ in 0..calls_per_task {
                    let v = client.volumes().get(&volume).await.unwrap();
                    assert_eq!(v.replication, 3);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    (tasks * calls_per_task) as f64 / start.elapsed().as_secs_f64()
}

async fn http_section() {
    println!("## Through the client over loopback\n");
    let one = envelope(&volumes_json(1));
    let small = Arc::new(one.clone().into_bytes());

    println!(
        "| server | mode | calls | calls/s (median of 5) | min | max | TCP connections accepted |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let (port, accepted) = keep_alive_server(small.clone()).await;
    let client = client_for(&format!("http://127.0.0.1:{port}"));
    for (mode, tasks, per_task) in [("sequential", 1, 2000), ("16 concurrent tasks", 16, 250)] {
        let mut samples = Vec::new();
        for _ in 0..5 {
            samples.push(calls_per_second(&client, tasks, per_task).await);
        }
        let s = stats(samples);
        println!(
            "| tiny keep-alive server | {mode} | {} | {:.0} | {:.0} | {:.0} | {} (cumulative) |",
            tasks * per_task,
            s.median,
            s.min,
            s.max,
            accepted.load(Ordering::SeqCst)
        );
    }

    let mock = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_raw(one.into_bytes(), "application/json"),
        )
        .mount(&mock)
        .await;
    let client = client_for(&mock.uri());
    for (mode, tasks, per_task) in [("sequential", 1, 1000), ("16 concurrent tasks", 16, 125)] {
        let mut samples = Vec::new();
        for _ in 0..5 {
            samples.push(calls_per_second(&client, tasks, per_task).await);
        }
        let s = stats(samples);
        println!(
            "| wiremock | {mode} | {} | {:.0} | {:.0} | {:.0} | n/a |",
            tasks * per_task,
            s.median,
            s.min,
            s.max
        );
    }
    println!();
}

fn main() {
    println!("# storpool-api client overhead\n");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(http_section());
}
