//! The simulator itself (item 6 of the benchmark issue), measured with a bare HTTP client so
//! that our API client's cost is not part of the figures:
//!
//! - memory per 1,000 volumes (resident-size growth while 100,000 are created), the
//!   `VolumesList` answer time with 100,000 volumes, and the `VolumeCreate` rate with them
//!   present;
//! - requests per second of small calls (`GET Volume/NAME`) from 1 and 16 clients, keep-alive
//!   and `Connection: close` (a new connection per request, as the real server wants);
//! - `VolumeCreate` / `VolumeSnapshot` / `VolumeDelete` latency, with and without fsync;
//! - `VolumeSnapshot` of a 10 GiB volume holding 100 MiB of data, and a clone of it.
//!
//! Run with `cargo bench -p storpool-benches --bench sim` (in-process simulators only);
//! `-- scale throughput latencies snapshots` (any of them) runs only those parts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
// Counts far below 2^52 convert to f64 exactly.
#![allow(clippy::cast_precision_loss)]

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use serde_json::json;
use storpool_benches::{
    BenchArgs, Check, Conn, Report, Row, fetch, rss_bytes, seed_volumes, volume_name,
};
use storpool_sim::Sim;

fn main() {
    let args = BenchArgs::from_env();
    let mut report = Report::new(&args);
    // `-- PART...` runs only those parts.
    let part = |name: &str| args.rest.is_empty() || args.rest.iter().any(|p| p == name);
    // First, while this process has allocated (and freed) nothing else.
    if part("scale") {
        scale(&args, &mut report);
    }
    if part("throughput") {
        throughput(&args, &mut report);
    }
    if part("latencies") {
        latencies(&args, &mut report);
    }
    if part("snapshots") {
        big_snapshot(&args, &mut report);
    }
}

fn body(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn scale(args: &BenchArgs, report: &mut Report) {
    let count = args.pick(100_000, 2_000);
    let sim = Sim::builder().keep_alive(true).start().unwrap();
    let before = rss_bytes(None);
    let start = Instant::now();
    seed_volumes(&sim, 0, count).unwrap();
    let seeded = start.elapsed();
    let after = rss_bytes(None);
    let mut rows = vec![Row::rate(
        "sim/seed-in-process",
        format!("VolumeCreate in-process (durable commits), {count} volumes"),
        count as u64,
        &[seeded],
    )];
    let name = format!("memory per 1,000 volumes (resident growth over {count})");
    rows.push(match (before, after) {
        (Some(before), Some(after)) => Row::memory(
            "sim/memory-per-1000-volumes",
            name,
            vec![after.saturating_sub(before) * 1000 / count as u64],
        ),
        _ => Row::skipped("sim/memory-per-1000-volumes", name, "needs /proc"),
    });
    let mut conn = Conn::new(&sim.base_url(), sim.token()).unwrap();
    // Each run changes one volume's tags first, so the answer is rendered anew. The bytes
    // are read and dropped: the server's time, not what keeping 50 MB costs this client.
    let (mut changed, mut kept) = (Vec::new(), Vec::new());
    let mut size = 0;
    for run in 0..args.pick(15, 1) {
        let b = body(&json!({"tags": {"bench-run": run.to_string()}}));
        conn.ok(
            "POST",
            &format!("VolumeUpdate/{}", volume_name(0)),
            Some(&b),
        )
        .unwrap();
        let start = Instant::now();
        size = conn.ok_discard("GET", "VolumesList").unwrap();
        changed.push(start.elapsed());
        let start = Instant::now();
        conn.ok_discard("GET", "VolumesList").unwrap();
        kept.push(start.elapsed());
    }
    rows.push(Row::time(
        "sim/volumes-list",
        format!(
            "VolumesList answer with {count} volumes ({:.1} MB), state changed since the last",
            size as f64 / 1e6
        ),
        changed,
    ));
    rows.push(Row::time(
        "sim/volumes-list-kept",
        format!("VolumesList answer with {count} volumes, state unchanged (kept answer)"),
        kept,
    ));
    let creates: u64 = args.pick(1000, 20);
    let mut runs = Vec::new();
    for rep in 0..args.pick(3, 1) {
        let start = Instant::now();
        for i in 0..creates {
            let b =
                json!({"name": format!("extra-{rep}-{i}"), "size": 1u64 << 30, "replication": 3});
            conn.ok("POST", "VolumeCreate", Some(&body(&b))).unwrap();
        }
        runs.push(start.elapsed());
    }
    rows.push(Row::rate(
        "sim/create-with-many",
        format!("VolumeCreate over HTTP with {count} volumes present"),
        creates,
        &runs,
    ));
    report.table("storpool-sim: scale (in-process, keep-alive)", &rows);
    if args.full {
        println!("\nTargets (issue 16, item 2: a listing of 100,000 objects in at most 40 ms):");
        for id in ["sim/volumes-list", "sim/volumes-list-kept"] {
            Report::target(&rows, id, id, Check::AtMost(0.040));
        }
    }
}

/// `clients` threads, each doing `per_client` lookups; the wall-clock time.
fn lookups(sim: &Sim, keep_alive: bool, clients: usize, per_client: usize) -> Duration {
    lookups_at(
        &sim.base_url(),
        sim.token(),
        keep_alive,
        clients,
        per_client,
    )
}

/// [`lookups`] against any server.
fn lookups_at(
    url: &str,
    token: &str,
    keep_alive: bool,
    clients: usize,
    per_client: usize,
) -> Duration {
    let (url, token) = (url.to_owned(), token.to_owned());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            let (url, token) = (&url, &token);
            s.spawn(move || {
                if keep_alive {
                    let mut c = Conn::new(url, token).unwrap();
                    for _ in 0..per_client {
                        c.ok("GET", "Volume/bench", None).unwrap();
                    }
                } else {
                    for _ in 0..per_client {
                        let (status, _) = fetch(url, token, "GET", "Volume/bench", None).unwrap();
                        assert_eq!(status, 200);
                    }
                }
            });
        }
    });
    start.elapsed()
}

/// The machine's floor for one client's small `Connection: close` calls: the same client
/// against a blocking server on one thread that answers every request with the simulator's
/// answer to the lookup, read once beforehand, without parsing, routing or a runtime.
fn fixed_answer_floor(args: &BenchArgs) -> Row {
    let sim = Sim::builder().start().unwrap();
    sim.seed_volume("bench", 1 << 30, None).unwrap();
    let (status, body) = fetch(&sim.base_url(), sim.token(), "GET", "Volume/bench", None).unwrap();
    assert_eq!(status, 200);
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-control: private\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Serves until the process exits.
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let _ = stream.write_all(&answer);
        }
    });
    let per_client = args.pick(5000, 10);
    lookups_at(&url, sim.token(), false, 1, per_client / 5); // warm-up
    let runs: Vec<Duration> = (0..args.pick(5, 1))
        .map(|_| lookups_at(&url, sim.token(), false, 1, per_client))
        .collect();
    Row::rate(
        "sim/small/close/1/floor",
        "floor: a blocking one-thread server with a fixed answer, Connection: close, 1 client",
        per_client as u64,
        &runs,
    )
}

fn throughput(args: &BenchArgs, report: &mut Report) {
    let mut rows = Vec::new();
    for (mode, keep_alive) in [("keep-alive", true), ("close", false)] {
        let sim = Sim::builder().keep_alive(keep_alive).start().unwrap();
        sim.seed_volume("bench", 1 << 30, None).unwrap();
        for clients in [1, 16] {
            let per_client = args.pick(if clients == 1 { 5000 } else { 500 }, 10);
            lookups(&sim, keep_alive, clients, per_client / 5); // warm-up
            let runs: Vec<Duration> = (0..args.pick(5, 1))
                .map(|_| lookups(&sim, keep_alive, clients, per_client))
                .collect();
            let about = if keep_alive {
                "keep-alive"
            } else {
                "Connection: close"
            };
            rows.push(Row::rate(
                format!("sim/small/{mode}/{clients}"),
                format!("GET Volume/NAME, {about}, {clients} client(s)"),
                (clients * per_client) as u64,
                &runs,
            ));
        }
    }
    rows.push(fixed_answer_floor(args));
    report.table(
        "storpool-sim: requests per second of small calls (in-process, bare HTTP client)",
        &rows,
    );
    if args.full {
        println!(
            "\nTargets (issue 16, item 5: at least 15,000 small Connection: close calls per second):"
        );
        for id in ["sim/small/close/1", "sim/small/close/16"] {
            Report::target(&rows, id, id, Check::AtLeast(15_000.0));
        }
        let median = |id: &str| rows.iter().find(|r| r.id == id).map(Row::median);
        if let (Some(sim), Some(floor)) = (
            median("sim/small/close/1"),
            median("sim/small/close/1/floor"),
        ) {
            println!(
                "- [info] sim/small/close/1: {:.0} % of the machine's floor for one client \
                 (sim/small/close/1/floor, {floor:.0}/s)",
                100.0 * sim / floor
            );
        }
    }
}

fn latencies(args: &BenchArgs, report: &mut Report) {
    let mut rows = Vec::new();
    for sync in [false, true] {
        let sim = Sim::builder().keep_alive(true).sync(sync).start().unwrap();
        let mut c = Conn::new(&sim.base_url(), sim.token()).unwrap();
        let n = args.pick(if sync { 100 } else { 500 }, 5);
        let (mut create, mut snap, mut delete) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let b = body(&json!({"name": format!("v{i}"), "size": 1u64 << 30, "replication": 3}));
            let t = Instant::now();
            c.ok("POST", "VolumeCreate", Some(&b)).unwrap();
            create.push(t.elapsed());
            let b = body(&json!({"name": format!("s{i}")}));
            let t = Instant::now();
            c.ok("POST", &format!("VolumeSnapshot/v{i}"), Some(&b))
                .unwrap();
            snap.push(t.elapsed());
        }
        for i in 0..n {
            let t = Instant::now();
            c.ok("POST", &format!("VolumeDelete/v{i}"), Some(b"{}"))
                .unwrap();
            delete.push(t.elapsed());
        }
        let label = if sync { "fsync" } else { "no-fsync" };
        for (call, samples) in [
            ("VolumeCreate", create),
            ("VolumeSnapshot", snap),
            ("VolumeDelete", delete),
        ] {
            rows.push(Row::time(
                format!("sim/latency/{call}/{label}"),
                format!(
                    "{call} latency, {}",
                    if sync { "fsync on" } else { "fsync off" }
                ),
                samples,
            ));
        }
    }
    report.table(
        "storpool-sim: latency of changes (in-process, keep-alive, one client)",
        &rows,
    );
}

fn big_snapshot(args: &BenchArgs, report: &mut Report) {
    let sim = Sim::builder()
        .serve_client(1)
        .keep_alive(true)
        .start()
        .unwrap();
    let mut c = Conn::new(&sim.base_url(), sim.token()).unwrap();
    let chunk = vec![0xa5u8; 1 << 20];
    let (mut snaps, mut clones) = (Vec::new(), Vec::new());
    for rep in 0..args.pick(5, 1) {
        let (vol, snap, clone) = (
            format!("big{rep}"),
            format!("big{rep}-snap"),
            format!("big{rep}-clone"),
        );
        let b = body(&json!({"name": vol, "size": 10u64 << 30, "replication": 3}));
        c.ok("POST", "VolumeCreate", Some(&b)).unwrap();
        let b = body(&json!([{"volume": vol, "rw": [1]}]));
        c.ok("POST", "VolumesReassign", Some(&b)).unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(sim.dev_root().join("storpool").join(&vol))
            .unwrap();
        // 100 MiB spread over the volume: 100 extents of 1 MiB, 100 MiB apart.
        for i in 0..100u64 {
            std::os::unix::fs::FileExt::write_all_at(&f, &chunk, i * (100 << 20)).unwrap();
        }
        f.sync_all().unwrap();
        let t = Instant::now();
        let b = body(&json!({ "name": snap }));
        c.ok("POST", &format!("VolumeSnapshot/{vol}"), Some(&b))
            .unwrap();
        snaps.push(t.elapsed());
        let t = Instant::now();
        let b = body(&json!({"name": clone, "parent": snap}));
        c.ok("POST", "VolumeCreate", Some(&b)).unwrap();
        clones.push(t.elapsed());
        let b = body(&json!([{"volume": vol, "detach": "all"}]));
        c.ok("POST", "VolumesReassign", Some(&b)).unwrap();
        for call in [
            format!("VolumeDelete/{vol}"),
            format!("VolumeDelete/{clone}"),
            format!("SnapshotDelete/{snap}"),
        ] {
            c.ok("POST", &call, None).unwrap();
        }
    }
    report.table(
        "storpool-sim: data plane (10 GiB volume holding 100 MiB in 100 extents)",
        &[
            Row::time(
                "sim/snapshot-10g-100m",
                "VolumeSnapshot of the volume",
                snaps,
            ),
            Row::time(
                "sim/clone-10g-100m",
                "VolumeCreate of a clone of that snapshot",
                clones,
            ),
        ],
    );
}
