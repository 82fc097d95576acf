//! The API client against the simulator (items 1 and 2 of the benchmark issue):
//!
//! 1. control-plane calls per second, sequential (through `storpool_api::blocking::Client`, on
//!    the calling thread, as our tools make their calls) and from 16 concurrent tasks sharing
//!    one async client on two workers: `VolumeCreate`+`VolumeDelete` pairs and `Volume/NAME`
//!    lookups, against the simulator in its default mode (`Connection: close`, so the client
//!    reconnects for every call, as the reference clients always do) and in keep-alive mode
//!    (the client reuses its connections), each run followed by the same calls from a bare
//!    HTTP client (the server's limit);
//! 2. fetching and decoding `VolumesList` of 1,000 and 100,000 volumes into
//!    `Vec<VolumeSummary>`, next to `serde_json::Value` parsing of the same bytes (the floor),
//!    end to end and decode-only, with the server's share (a bare fetch of the bytes) and the
//!    peak memory of decoding (in a child process).
//!
//! `cargo bench -p storpool-benches --bench api` starts in-process simulators. Given
//! `-- --token T --sim close=URL --sim keep-alive=URL --sim list-1000=URL
//! --sim list-100000=URL` it measures running `storpool-sim` processes instead (what
//! `scripts/bench-reference.sh` does, so that the reference clients meet the same servers);
//! `-- calls` or `-- lists` measures only item 1 or 2; `-- seed DIR N` writes a state directory holding volumes `0..N` of the listing, for
//! `storpool-sim --state DIR`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
// Byte counts far below 2^52 convert to f64 exactly.
#![allow(clippy::cast_precision_loss)]

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;
use serde_json::Value;
use storpool_api::fuzzing::{decode_listing_response, decode_sonic_response};
use storpool_api::sonic_rs::{self, JsonContainerTrait as _};
use storpool_api::{
    ApiError, Client, Method, RetryPolicy, VolumeCreate, VolumeName, VolumeRef, VolumeSummary,
    blocking,
};
use storpool_benches::{
    BenchArgs, Check, Conn, Report, Row, SimTarget, Stats, child_peak, fetch, run_measuring_peak,
    seed_volumes,
};
use storpool_sim::Sim;

/// mimalloc, as in `sp-volume`: what the decoding rows measure is the library in our tools.
/// With glibc's malloc, typed decoding of 100,000 volumes took 65 ms instead of 38-41 (more
/// time in malloc and free) and 89 MiB of peak memory instead of 81-85.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The volume the lookups read.
const LOOKUP: &str = "bench-lookup";
/// Concurrent tasks of the concurrent rows.
const TASKS: usize = 16;

fn main() {
    let args = BenchArgs::from_env();
    if let Some(child) = &args.child {
        peak_child(child);
        return;
    }
    match args.rest.first().map(String::as_str) {
        Some("seed") => {
            let (dir, count) = (&args.rest[1], args.rest[2].parse().unwrap());
            let service = Sim::builder().state_dir(dir).sync(false).build().unwrap();
            seed_volumes(&service.handle(), 0, count).unwrap();
            return;
        }
        Some("dump") => {
            let (count, file) = (args.rest[1].parse().unwrap(), &args.rest[2]);
            let sim = Sim::builder().start().unwrap();
            seed_volumes(&sim, 0, count).unwrap();
            let (status, bytes) =
                fetch(&sim.base_url(), sim.token(), "GET", "VolumesList", None).unwrap();
            assert_eq!(status, 200);
            std::fs::write(file, bytes).unwrap();
            return;
        }
        Some("decode") => {
            let bytes = std::fs::read(&args.rest[2]).unwrap();
            match args.rest.get(3).map(|r| r.parse::<usize>().unwrap()) {
                None => drop(decode_once(&args.rest[1], &bytes)),
                Some(runs) => {
                    let stats =
                        Stats::measure_making("", runs, || decode_once(&args.rest[1], &bytes));
                    println!(
                        "{}: median {:?} (min {:?}, max {:?})",
                        args.rest[1],
                        stats.median(),
                        stats.min(),
                        stats.max()
                    );
                }
            }
            return;
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut report = Report::new(&args);
    let only = args.rest.first().map(String::as_str);
    if only != Some("lists") {
        calls(&args, &runtime, &mut report);
    }
    if only != Some("calls") {
        lists(&args, &runtime, &mut report);
    }
}

fn client(target: &SimTarget) -> Client {
    Client::builder()
        .base_url(target.url())
        .token(target.token())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// What one step of a task does.
#[derive(Clone, Copy)]
enum Op {
    /// `GET Volume/bench-lookup`.
    Lookup,
    /// `VolumeCreate` of a fresh name, then `VolumeDelete` of it.
    CreateDelete,
}

impl Op {
    /// One step through `client`; `name` is the fresh volume name of a create+delete step.
    async fn run(self, client: &Client, name: impl FnOnce() -> String) -> Result<(), ApiError> {
        match self {
            Op::Lookup => {
                let v = client.volumes().get(&VolumeRef::new(LOOKUP)?).await?;
                assert_eq!(v.name, LOOKUP);
            }
            Op::CreateDelete => {
                let name = VolumeName::new(name())?;
                client
                    .volumes()
                    .create(&VolumeCreate {
                        name: Some(name.clone()),
                        size: Some(1 << 30),
                        replication: Some(3),
                        ..VolumeCreate::default()
                    })
                    .await?;
                client.volumes().delete(&name.into()).await?;
            }
        }
        Ok(())
    }
}

/// Runs `ops` steps one after the other through the blocking client on this thread (what
/// `sp-volume`, `sp-attach` and other synchronous users do: a current-thread runtime driven
/// by the caller); returns the wall-clock time.
fn run_sequential(client: &blocking::Client, ops: usize, op: Op) -> Duration {
    let start = Instant::now();
    for i in 0..ops {
        client
            .call(op.run(client.as_async(), || format!("rs-bench-seq-{i}")))
            .unwrap();
    }
    start.elapsed()
}

/// Runs `ops` steps split over `tasks` concurrent tasks; returns the wall-clock time.
async fn run_tasks(client: &Client, tasks: usize, ops: usize, op: Op) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..ops / tasks {
                    op.run(&client, || format!("rs-bench-{task}-{i}"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    start.elapsed()
}

/// The floor: `ops` steps split over `tasks` threads of a bare blocking HTTP client (a new
/// connection per call, or one kept-alive connection per thread); the wall-clock time.
fn bare(url: &str, token: &str, keep_alive: bool, tasks: usize, ops: usize, op: Op) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for task in 0..tasks {
            s.spawn(move || {
                let mut conn = keep_alive.then(|| Conn::new(url, token).unwrap());
                let mut call = |method: &str, call: &str, body: Option<&[u8]>| {
                    let (status, out) = match &mut conn {
                        Some(conn) => conn.call(method, call, body).unwrap(),
                        None => fetch(url, token, method, call, body).unwrap(),
                    };
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
                };
                for i in 0..ops / tasks {
                    match op {
                        Op::Lookup => call("GET", &format!("Volume/{LOOKUP}"), None),
                        Op::CreateDelete => {
                            let name = format!("bare-bench-{task}-{i}");
                            let body =
                                format!(r#"{{"name":"{name}","size":1073741824,"replication":3}}"#);
                            call("POST", "VolumeCreate", Some(body.as_bytes()));
                            call("POST", &format!("VolumeDelete/{name}"), None);
                        }
                    }
                }
            });
        }
    });
    start.elapsed()
}

/// Item 1: calls per second in both modes of the simulator. Each run of the client is
/// followed by the same steps from the bare client, so that both rows of a pair see the same
/// moments of a noisy machine (measured one row after the other, the ratio swung by 30 %).
fn calls(args: &BenchArgs, runtime: &tokio::runtime::Runtime, report: &mut Report) {
    let reps = args.pick(7, 1);
    let (lookups, pairs) = args.pick((2000, 500), (32, 16));
    for (mode, keep_alive, about) in [
        (
            "close",
            false,
            "Connection: close, a new connection per call",
        ),
        ("keep-alive", true, "keep-alive, connections reused"),
    ] {
        let target =
            SimTarget::named(args, mode, || Sim::builder().keep_alive(keep_alive).start()).unwrap();
        let client = client(&target);
        let sequential = blocking::Client::new(client.clone()).unwrap();
        let created = sequential.call(client.volumes().create(&VolumeCreate {
            name: Some(VolumeName::new(LOOKUP).unwrap()),
            size: Some(10 << 30),
            replication: Some(3),
            ..VolumeCreate::default()
        }));
        assert!(created.is_ok() || created.unwrap_err().is_object_exists());
        let (url, token) = (target.url(), target.token());
        let ours = |tasks: usize, ops: usize, op: Op| {
            if tasks == 1 {
                run_sequential(&sequential, ops, op)
            } else {
                runtime.block_on(run_tasks(&client, tasks, ops, op))
            }
        };
        let mut rows = Vec::new();
        let mut floors = Vec::new();
        for (op, what, count) in [
            (Op::Lookup, "lookup", lookups),
            (Op::CreateDelete, "create-delete", pairs),
        ] {
            for tasks in [1, TASKS] {
                let warm_up = (count / 10).max(tasks);
                ours(tasks, warm_up, op);
                bare(&url, &token, keep_alive, tasks, warm_up, op);
                let (mut runs, mut bare_runs) = (Vec::new(), Vec::new());
                for _ in 0..reps {
                    runs.push(ours(tasks, count, op));
                    bare_runs.push(bare(&url, &token, keep_alive, tasks, count, op));
                }
                let (key, label, threads) = if tasks == 1 {
                    (
                        "seq",
                        "sequential (blocking client)".to_owned(),
                        "sequential",
                    )
                } else {
                    ("16", format!("{tasks} concurrent tasks"), "16 threads")
                };
                let name = match op {
                    Op::Lookup => format!("Volume/NAME lookups, {label}"),
                    Op::CreateDelete => format!("VolumeCreate+VolumeDelete pairs, {label}"),
                };
                let id = format!("calls/{what}/{mode}/{key}");
                rows.push(Row::rate(id.clone(), name, count as u64, &runs));
                floors.push(Row::rate(
                    format!("{id}/bare"),
                    format!("floor: {what} with a bare HTTP client (std), {threads}"),
                    count as u64,
                    &bare_runs,
                ));
            }
        }
        rows.append(&mut floors);
        report.table(
            &format!(
                "Calls per second through storpool-api: {} ({about})",
                target.describe()
            ),
            &rows,
        );
        println!(
            "\nTargets of issue 16 (medians), item 5: at least 90 % of the bare client's rate:"
        );
        for row in rows.iter().filter(|r| !r.id.ends_with("/bare")) {
            let bare = rows
                .iter()
                .find(|r| r.id == format!("{}/bare", row.id))
                .map_or(0.0, Row::median);
            Report::target(&rows, &row.id, &row.id, Check::AtLeast(0.9 * bare));
        }
    }
}

/// Times `runs` awaited calls of `f` after one warm-up call.
async fn time_async<F: Future<Output = ()>>(
    runs: usize,
    mut f: impl FnMut() -> F,
) -> Vec<Duration> {
    f().await;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        samples.push(start.elapsed());
    }
    samples
}

/// Item 2: `VolumesList` of 1,000 and 100,000 volumes.
fn lists(args: &BenchArgs, runtime: &tokio::runtime::Runtime, report: &mut Report) {
    for count in args.pick([1_000, 100_000], [100, 1_000]) {
        let target = SimTarget::named(args, &format!("list-{count}"), || {
            let sim = Sim::builder().start()?;
            seed_volumes(&sim, 0, count)?;
            Ok(sim)
        })
        .unwrap();
        let (url, token) = (target.url(), target.token());
        let (status, bytes) = fetch(&url, &token, "GET", "VolumesList", None).unwrap();
        assert_eq!(status, 200);
        let listed = decode_listing_response::<VolumeSummary>(200, &bytes)
            .unwrap()
            .len();
        assert_eq!(
            listed, count,
            "the simulator should hold exactly {count} volumes"
        );
        let runs = args.pick(if count > 10_000 { 7 } else { 50 }, 2);
        let client = client(&target);

        let typed = runtime.block_on(time_async(runs, || async {
            assert_eq!(client.volumes().list().await.unwrap().len(), count);
        }));
        let value = runtime.block_on(time_async(runs, || async {
            let v = client.raw(Method::GET, "VolumesList", None).await.unwrap();
            assert_eq!(v.as_array().map(Vec::len), Some(count));
        }));
        let raw = runtime.block_on(time_async(runs, || async {
            let v = client
                .raw_sonic(Method::GET, "VolumesList", None)
                .await
                .unwrap();
            assert_eq!(v.as_array().map(sonic_rs::Array::len), Some(count));
        }));
        let bare = Stats::measure("", runs, || {
            let (status, body) = fetch(&url, &token, "GET", "VolumesList", None).unwrap();
            assert_eq!((status, body.len()), (200, bytes.len()));
        });
        let mut rows = vec![
            Row::time(
                format!("list/{count}/fetch-typed"),
                "fetch + decode, typed: client.volumes().list()",
                typed,
            ),
            Row::time(
                format!("list/{count}/fetch-value"),
                "fetch + decode, Value: client.raw(GET, VolumesList)",
                value,
            ),
            Row::time(
                format!("list/{count}/fetch-raw"),
                "fetch + decode, sonic_rs::Value: client.raw_sonic(GET, VolumesList)",
                raw,
            ),
            Row::time(
                format!("list/{count}/fetch-bare"),
                "fetch only: bare HTTP client, bytes (the server's share)",
                bare.samples,
            ),
        ];
        rows.extend(decode_rows(count, runs, &bytes));
        rows.extend(peak_rows(args, count, &url, &token));
        report.table(
            &format!(
                "VolumesList of {count} volumes ({:.1} MB), {}",
                bytes.len() as f64 / 1e6,
                target.describe()
            ),
            &rows,
        );
        if args.full && count == 100_000 {
            targets(count, &rows);
        }
    }
}

/// Decodes a saved answer (`-- decode typed|value|syntax FILE [RUNS]`): once, for
/// `valgrind --tool=callgrind` (instruction counts do not depend on what else runs), or
/// `RUNS` times, printing the median (the decoded value is dropped after the clock stops).
fn decode_once(kind: &str, bytes: &[u8]) -> Box<dyn std::any::Any> {
    match kind {
        "typed" => Box::new(decode_listing_response::<VolumeSummary>(200, bytes).unwrap()),
        "value" => Box::new(serde_json::from_slice::<Value>(bytes).unwrap()),
        "raw" => Box::new(decode_sonic_response(200, bytes).unwrap()),
        "syntax" => Box::new(serde_json::from_slice::<IgnoredAny>(bytes).unwrap()),
        other => panic!("unknown kind {other}: typed, value, raw or syntax"),
    }
}

/// Decoding the same bytes, already in memory, each way.
fn decode_rows(count: usize, runs: usize, bytes: &[u8]) -> Vec<Row> {
    let decode_typed = Stats::measure_making("", runs, || {
        decode_listing_response::<VolumeSummary>(200, black_box(bytes)).unwrap()
    });
    let decode_value = Stats::measure_making("", runs, || {
        serde_json::from_slice::<Value>(black_box(bytes)).unwrap()
    });
    let decode_raw = Stats::measure_making("", runs, || {
        decode_sonic_response(200, black_box(bytes)).unwrap()
    });
    let syntax = Stats::measure("", runs, || {
        black_box(serde_json::from_slice::<IgnoredAny>(black_box(bytes)).unwrap());
    });
    vec![
        Row::time(
            format!("list/{count}/decode-typed"),
            "decode only, typed (envelope + Vec<VolumeSummary>)",
            decode_typed.samples,
        ),
        Row::time(
            format!("list/{count}/decode-value"),
            "decode only, serde_json::Value (the floor)",
            decode_value.samples,
        ),
        Row::time(
            format!("list/{count}/decode-raw"),
            "decode only, raw_sonic's answer path (envelope + sonic_rs::Value)",
            decode_raw.samples,
        ),
        Row::time(
            format!("list/{count}/decode-syntax"),
            "decode only, syntax check (serde::de::IgnoredAny)",
            syntax.samples,
        ),
    ]
}

/// Peak memory of each kind of decoding, each measured in a fresh child process.
fn peak_rows(args: &BenchArgs, count: usize, url: &str, token: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for (kind, what) in [
        ("typed", "typed"),
        ("value", "serde_json::Value"),
        ("raw", "raw_sonic's sonic_rs::Value"),
    ] {
        let id = format!("list/{count}/peak-{kind}");
        let name = format!("peak memory growth of decoding, {what}");
        let peaks: Vec<u64> = (0..args.pick(3, 1))
            .filter_map(|_| child_peak(&["peak", kind, url, token]))
            .collect();
        rows.push(if peaks.is_empty() {
            Row::skipped(id, name, "needs /proc/self/clear_refs (Linux)")
        } else {
            Row::memory(id, name, peaks)
        });
    }
    rows
}

/// Issue 16's targets for the decoding of `VolumesList` (items 1 and 4).
fn targets(count: usize, rows: &[Row]) {
    let syntax = rows
        .iter()
        .find(|r| r.id.ends_with("/decode-syntax"))
        .map_or(0.0, Row::median);
    println!("\nTargets of issue 16 (medians):");
    Report::target(
        rows,
        &format!("list/{count}/decode-typed"),
        "item 1: typed decoding within 2x of the syntax check",
        Check::AtMost(2.0 * syntax),
    );
    Report::target(
        rows,
        &format!("list/{count}/peak-typed"),
        "item 1: peak memory of typed decoding at most 86 MiB",
        Check::AtMost(86.0 * 1_048_576.0),
    );
    println!(
        "- [see scripts/bench-reference.sh] item 4: list/{count}/decode-raw at least 2x faster \
         than Python's json.loads of the same bytes"
    );
}

/// In a fresh process: fetch the listing, then print how far decoding it raised the peak
/// resident memory.
fn peak_child(args: &[String]) {
    let [what, kind, url, token] = args else {
        panic!("usage: --child peak typed|value|raw URL TOKEN");
    };
    assert_eq!(what, "peak");
    let (status, bytes) = fetch(url, token, "GET", "VolumesList", None).unwrap();
    assert_eq!(status, 200);
    let (items, peak) = match kind.as_str() {
        "typed" => run_measuring_peak(|| {
            decode_listing_response::<VolumeSummary>(200, &bytes)
                .unwrap()
                .len()
        }),
        "value" => run_measuring_peak(|| {
            serde_json::from_slice::<Value>(&bytes).unwrap()["data"]
                .as_array()
                .map_or(0, Vec::len)
        }),
        "raw" => run_measuring_peak(|| {
            decode_sonic_response(200, &bytes)
                .unwrap()
                .as_array()
                .map_or(0, sonic_rs::Array::len)
        }),
        other => panic!("unknown kind {other}"),
    };
    assert!(items > 0);
    println!("{}", peak.expect("/proc is readable"));
}
