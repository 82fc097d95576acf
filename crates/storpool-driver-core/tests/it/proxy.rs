//! A fault proxy between the driver and the simulator for what the simulator's own fault
//! injection cannot do: let a call take effect and then lose its answer (a connection that
//! drops mid-call), or fail the N-th call of a kind.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use storpool_api::{Client, RetryPolicy};
use storpool_driver_core::{Driver, DriverOptions};
use storpool_sim::Sim;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to do with matching calls.
#[derive(Clone, Debug)]
enum Action {
    /// Forward the request, then close the connection without the answer.
    DropAnswer,
    /// Answer with this API error without forwarding.
    Fail { name: String, descr: String },
}

#[derive(Clone, Debug)]
struct Rule {
    call: String,
    skip: u32,
    times: u32,
    action: Action,
}

/// A running proxy.
pub(crate) struct Proxy {
    addr: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// A proxy in front of `sim`, on `127.0.0.1:0`.
    pub(crate) async fn start(sim: &Sim) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let upstream = sim.addr();
        let (r, s) = (rules.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, upstream, r.clone(), s.clone()));
            }
        });
        Self { addr, rules, seen }
    }

    /// After `skip` matching calls, the next `times` calls of `call` take effect on the
    /// cluster but their answers are lost.
    pub(crate) fn drop_answers(&self, call: &str, skip: u32, times: u32) {
        self.rules.lock().unwrap().push(Rule {
            call: call.to_owned(),
            skip,
            times,
            action: Action::DropAnswer,
        });
    }

    /// After `skip` matching calls, the next `times` calls of `call` fail with `name`
    /// (not transient) and have no effect.
    pub(crate) fn fail(&self, call: &str, skip: u32, times: u32, name: &str) {
        self.rules.lock().unwrap().push(Rule {
            call: call.to_owned(),
            skip,
            times,
            action: Action::Fail {
                name: name.to_owned(),
                descr: format!("injected by the test proxy into {call}"),
            },
        });
    }

    /// The calls seen so far, as `METHOD CALL`.
    pub(crate) fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// A driver whose client goes through this proxy and retries at once.
    pub(crate) fn driver(&self, sim: &Sim, options: DriverOptions) -> Driver {
        let client = Client::builder()
            .base_url(format!("http://{}", self.addr))
            .token(sim.token())
            .retry(RetryPolicy::immediate(5))
            .build()
            .unwrap();
        Driver::new(client, options).unwrap()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf)
}

/// `CALL` of `/ctrl/1.0/[MultiCluster/]CALL[/ARGS]`.
fn call_of(target: &str) -> String {
    let path = target.split('?').next().unwrap_or("");
    let path = path.trim_start_matches("/ctrl/1.0/");
    let path = path.strip_prefix("MultiCluster/").unwrap_or(path);
    path.split('/').next().unwrap_or("").to_owned()
}

fn decide(rules: &Mutex<Vec<Rule>>, call: &str) -> Option<Action> {
    let mut rules = rules.lock().unwrap();
    let rule = rules.iter_mut().find(|r| r.call == call && r.times > 0)?;
    if rule.skip > 0 {
        rule.skip -= 1;
        return None;
    }
    rule.times -= 1;
    Some(rule.action.clone())
}

async fn serve(
    mut conn: TcpStream,
    upstream: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    let Some(request) = read_request(&mut conn).await else {
        return;
    };
    let line =
        String::from_utf8_lossy(&request[..find(&request, b"\r\n").unwrap_or(0)]).into_owned();
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let call = call_of(parts.next().unwrap_or(""));
    seen.lock().unwrap().push(format!("{method} {call}"));
    match decide(&rules, &call) {
        Some(Action::Fail { name, descr }) => {
            let body =
                serde_json::json!({"error": {"name": name, "descr": descr, "transient": false}})
                    .to_string();
            let answer = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
            let _ = conn.shutdown().await;
        }
        action => {
            let mut sim = TcpStream::connect(upstream).await.unwrap();
            sim.write_all(&request).await.unwrap();
            let mut response = Vec::new();
            sim.read_to_end(&mut response).await.unwrap();
            if matches!(action, Some(Action::DropAnswer)) {
                // The cluster did it; the client never hears.
                drop(conn);
                return;
            }
            let _ = conn.write_all(&response).await;
            let _ = conn.shutdown().await;
        }
    }
}
