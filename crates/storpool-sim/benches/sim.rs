//! Simulator benchmarks: prints a table. Run with `cargo bench -p storpool-sim`.
//!
//! Measures: small-call throughput over keep-alive connections (1 and 16 clients), latency of
//! `VolumeCreate`/`VolumeSnapshot`/`VolumeDelete` (without and with fsync), `VolumesList` time
//! and the `VolumeCreate` rate with 100,000 volumes present, memory per volume, and the time to
//! snapshot a 10 GiB volume holding 100 MiB of data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storpool_sim::Sim;

/// A keep-alive HTTP/1.1 client.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
    token: String,
}

impl Conn {
    fn new(addr: SocketAddr, token: &str) -> Self {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Self {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            token: token.to_owned(),
        }
    }

    fn call(&mut self, method: &str, call: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let head = format!(
            "{method} /ctrl/1.0/{call} HTTP/1.1\r\nHost: b\r\nAuthorization: Storpool v1:{}\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        );
        self.w.write_all(head.as_bytes()).unwrap();
        self.w.write_all(&body).unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap();
            }
        }
        let mut out = vec![0; len];
        self.r.read_exact(&mut out).unwrap();
        (status, out)
    }

    fn ok(&mut self, method: &str, call: &str, body: Option<&Value>) {
        let (status, out) = self.call(method, call, body);
        assert_eq!(status, 200, "{call}: {}", String::from_utf8_lossy(&out));
    }
}

fn row(what: &str, value: &str) {
    println!("| {what:<62} | {value:>22} |");
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn throughput(sim: &Sim, clients: usize, per_client: usize) -> f64 {
    let addr = sim.addr();
    let token = sim.token().to_owned();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            let token = token.clone();
            s.spawn(move || {
                let mut c = Conn::new(addr, &token);
                for _ in 0..per_client {
                    c.ok("GET", "Volume/bench", None);
                }
            });
        }
    });
    (clients * per_client) as f64 / start.elapsed().as_secs_f64()
}

fn latencies(sync: bool) {
    let sim = Sim::builder().keep_alive(true).sync(sync).start().unwrap();
    let mut c = Conn::new(sim.addr(), sim.token());
    let n = if sync { 100 } else { 500 };
    let (mut create, mut snap, mut delete) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let t = Instant::now();
        c.ok(
            "POST",
            "VolumeCreate",
            Some(&json!({"name": format!("v{i}"), "size": 1u64 << 30, "replication": 3})),
        );
        create.push(t.elapsed());
        let t = Instant::now();
        c.ok(
            "POST",
            &format!("VolumeSnapshot/v{i}"),
            Some(&json!({"name": format!("s{i}")})),
        );
        snap.push(t.elapsed());
    }
    for i in 0..n {
        let t = Instant::now();
        c.ok("POST", &format!("VolumeDelete/v{i}"), Some(&json!({})));
        delete.push(t.elapsed());
    }
    let label = if sync { "fsync on" } else { "fsync off" };
    for (name, v) in [
        ("VolumeCreate", &mut create),
        ("VolumeSnapshot", &mut snap),
        ("VolumeDelete", &mut delete),
    ] {
        row(
            &format!("{name} latency, {label} (median / p99)"),
            &format!("{} / {}", ms(percentile(v, 0.5)), ms(percentile(v, 0.99))),
        );
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn big_cluster() {
    const N: usize = 100_000;
    let sim = Sim::builder().keep_alive(true).start().unwrap();
    let before = rss_kib();
    let t = Instant::now();
    for i in 0..N {
        sim.call(
            "POST",
            "VolumeCreate",
            Some(json!({"name": format!("os--volume-{i:06}"), "size": 10u64 << 30, "replication": 3})),
        )
        .unwrap();
    }
    let seeded = t.elapsed();
    let after = rss_kib();
    row(
        "seed 100,000 volumes in-process (durable commits)",
        &format!("{:.0} /s", N as f64 / seeded.as_secs_f64()),
    );
    row(
        "memory per volume (RSS growth / 100,000)",
        &format!(
            "{:.2} KiB",
            (after.saturating_sub(before)) as f64 / N as f64
        ),
    );
    let mut c = Conn::new(sim.addr(), sim.token());
    let mut lists = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let (status, out) = c.call("GET", "VolumesList", None);
        lists.push(t.elapsed());
        assert_eq!(status, 200);
        size = out.len();
    }
    row(
        "VolumesList with 100,000 volumes (median of 5)",
        &format!("{} ({} MiB)", ms(percentile(&mut lists, 0.5)), size >> 20),
    );
    let t = Instant::now();
    let n = 2000;
    for i in 0..n {
        c.ok(
            "POST",
            "VolumeCreate",
            Some(&json!({"name": format!("extra-{i}"), "size": 1u64 << 30, "replication": 3})),
        );
    }
    row(
        "VolumeCreate rate over HTTP with 100,000 volumes present",
        &format!("{:.0} /s", f64::from(n) / t.elapsed().as_secs_f64()),
    );
}

fn big_snapshot() {
    let sim = Sim::builder()
        .serve_client(1)
        .keep_alive(true)
        .start()
        .unwrap();
    let mut c = Conn::new(sim.addr(), sim.token());
    c.ok(
        "POST",
        "VolumeCreate",
        Some(&json!({"name": "big", "size": 10u64 << 30, "replication": 3})),
    );
    c.ok(
        "POST",
        "VolumesReassign",
        Some(&json!([{"volume": "big", "rw": [1]}])),
    );
    let dev = sim.dev_root().join("storpool/big");
    let f = std::fs::OpenOptions::new().write(true).open(&dev).unwrap();
    let chunk = vec![0xa5u8; 1 << 20];
    // 100 MiB spread over the volume: 100 extents of 1 MiB, 100 MiB apart.
    for i in 0..100u64 {
        std::os::unix::fs::FileExt::write_all_at(&f, &chunk, i * (100 << 20)).unwrap();
    }
    f.sync_all().unwrap();
    let t = Instant::now();
    c.ok(
        "POST",
        "VolumeSnapshot/big",
        Some(&json!({"name": "big-snap"})),
    );
    row(
        "VolumeSnapshot of a 10 GiB volume holding 100 MiB",
        &ms(t.elapsed()),
    );
    let t = Instant::now();
    c.ok(
        "POST",
        "VolumeCreate",
        Some(&json!({"name": "big-clone", "parent": "big-snap"})),
    );
    row("VolumeCreate from that snapshot (clone)", &ms(t.elapsed()));
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would too: only run when benching.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("| {:<62} | {:>22} |", "measure", "value");
    println!("|{}|{}|", "-".repeat(64), "-".repeat(24));
    let sim = Sim::builder().keep_alive(true).start().unwrap();
    sim.seed_volume("bench", 1 << 30, None).unwrap();
    throughput(&sim, 1, 500);
    row(
        "small calls (GET Volume/NAME), keep-alive, 1 client",
        &format!("{:.0} req/s", throughput(&sim, 1, 20_000)),
    );
    row(
        "small calls (GET Volume/NAME), keep-alive, 16 clients",
        &format!("{:.0} req/s", throughput(&sim, 16, 2_000)),
    );
    drop(sim);
    latencies(false);
    latencies(true);
    big_snapshot();
    big_cluster();
}
