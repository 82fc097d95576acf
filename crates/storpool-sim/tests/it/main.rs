//! Integration tests: the simulator over real HTTP on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attach;
mod copies;
mod data;
mod faults;
mod files;
mod fuzz;
mod http;
mod limits;
mod volumes;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use serde_json::{Value, json};
use storpool_sim::Sim;

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) head: String,
    /// The body as sent.
    pub(crate) body: String,
    pub(crate) json: Value,
}

impl Resp {
    /// The `data` member of a successful answer.
    #[track_caller]
    pub(crate) fn data(&self) -> &Value {
        assert_eq!(self.status, 200, "unexpected answer: {self:?}");
        assert!(
            self.json.get("error").is_none(),
            "unexpected error: {self:?}"
        );
        &self.json["data"]
    }

    /// The error name of a failed answer.
    #[track_caller]
    pub(crate) fn err(&self) -> &str {
        assert_ne!(self.status, 200, "expected an error: {self:?}");
        let e = &self.json["error"];
        assert!(
            e["descr"].is_string() && e["transient"].is_boolean(),
            "{self:?}"
        );
        e["name"].as_str().unwrap()
    }

    pub(crate) fn descr(&self) -> &str {
        self.json["error"]["descr"].as_str().unwrap_or_default()
    }
}

/// A tiny HTTP/1.1 client: one connection per request, like the reference clients.
pub(crate) struct Api {
    pub(crate) addr: SocketAddr,
    pub(crate) token: String,
}

impl Api {
    pub(crate) fn new(sim: &Sim) -> Self {
        Self {
            addr: sim.addr(),
            token: sim.token().to_owned(),
        }
    }

    pub(crate) fn raw(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        let mut s = TcpStream::connect(self.addr).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(a) = auth {
            req = format!("{req}Authorization: {a}\r\n");
        }
        let body = body.unwrap_or_default();
        req = format!("{req}Content-Length: {}\r\n\r\n", body.len());
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        parse_response(&out)
    }

    pub(crate) fn call(&self, method: &str, call: &str, body: Option<&Value>) -> Resp {
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        let auth = format!("Storpool v1:{}", self.token);
        self.raw(
            method,
            &format!("/ctrl/1.0/{call}"),
            Some(&auth),
            body.as_deref(),
        )
    }

    pub(crate) fn get(&self, call: &str) -> Resp {
        self.call("GET", call, None)
    }

    #[allow(clippy::needless_pass_by_value)] // call sites pass `json!` literals
    pub(crate) fn post(&self, call: &str, body: Value) -> Resp {
        self.call("POST", call, Some(&body))
    }

    /// POST that must succeed; returns `data`.
    #[track_caller]
    pub(crate) fn ok(&self, call: &str, body: Value) -> Value {
        self.post(call, body).data().clone()
    }

    /// GET that must succeed; returns `data`.
    #[track_caller]
    pub(crate) fn read(&self, call: &str) -> Value {
        self.get(call).data().clone()
    }
}

pub(crate) fn parse_response(out: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Resp {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
        json: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

pub(crate) const GIB: u64 = 1 << 30;

/// A simulator serving client 1, and a client for it.
pub(crate) fn sim() -> (Sim, Api) {
    let sim = Sim::builder().serve_client(1).start().unwrap();
    let api = Api::new(&sim);
    (sim, api)
}

/// Create a volume with replication 3.
pub(crate) fn create(api: &Api, name: &str, size: u64) -> Value {
    api.ok(
        "VolumeCreate",
        json!({"name": name, "size": size, "replication": 3}),
    )
}
