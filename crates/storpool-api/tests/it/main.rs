//! Wire-level tests: one wiremock server per test, exact method, path, `Authorization` header
//! and JSON body; realistic fixtures decoded strictly (every member must be known). The
//! `against_sim` module is the contract test against the independent `storpool-sim`.
// Scenario tests read best as one story each, even when long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod against_sim;
mod attachments;
mod concurrency;
mod conf;
mod connections;
mod decode_fuzz;
mod disks;
mod errors;
mod paths;
mod placement;
mod retry;
mod secrecy;
mod services;
mod snapshots;
mod templates;
mod validation;
mod volumes;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use storpool_api::{Client, ClientBuilder, RetryPolicy};
use wiremock::matchers::{any, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub(crate) const TOKEN: &str = "1556129910218014736";
pub(crate) const AUTH: &str = "Storpool v1:1556129910218014736";

/// A server whose catch-all mock fails the test (on drop) if any request matches no other mock.
pub(crate) async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .named("catch-all: no request may get here")
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// A builder aimed at `server`, retrying at once (no wall-clock waits).
pub(crate) fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .retry(RetryPolicy::immediate(5))
}

pub(crate) fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// A success envelope around `value`.
pub(crate) fn data(value: Value) -> ResponseTemplate {
    let mut envelope = serde_json::Map::new();
    envelope.insert("generation".to_owned(), json!(42));
    envelope.insert("data".to_owned(), value);
    ResponseTemplate::new(200).set_body_json(Value::Object(envelope))
}

/// The plain success answer.
pub(crate) fn api_ok() -> ResponseTemplate {
    data(json!({"ok": true, "generation": 42}))
}

/// An error envelope.
pub(crate) fn api_error(status: u16, name: &str, descr: &str, transient: bool) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"name": name, "descr": descr, "transient": transient}}))
}

pub(crate) fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Decodes `text` as `T`, failing on any member `T` does not know: proves the model covers
/// the full field set of the fixture.
pub(crate) fn strict<T: DeserializeOwned>(text: &str) -> T {
    let mut ignored = Vec::new();
    let value = serde_ignored::deserialize(&mut serde_json::Deserializer::from_str(text), |p| {
        ignored.push(p.to_string());
    })
    .unwrap();
    assert!(ignored.is_empty(), "members not in the model: {ignored:?}");
    value
}

/// Matches a request without a body.
pub(crate) struct NoBody;

impl Match for NoBody {
    fn matches(&self, request: &Request) -> bool {
        request.body.is_empty()
    }
}

/// Matches a request whose URL has no query.
pub(crate) struct NoQuery;

impl Match for NoQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query().is_none()
    }
}

/// Matches a body that is exactly this JSON (no extra members, no nulls).
pub(crate) struct JsonBody(pub(crate) Value);

impl Match for JsonBody {
    fn matches(&self, request: &Request) -> bool {
        serde_json::from_slice::<Value>(&request.body).is_ok_and(|body| body == self.0)
    }
}

/// Expects exactly one `verb /ctrl/1.0/call` with the auth header, no query, and either no body
/// or exactly `body`; answers with `response`.
pub(crate) async fn expect(
    server: &MockServer,
    verb: &str,
    call: &str,
    body: Option<Value>,
    response: ResponseTemplate,
) {
    let mock = Mock::given(method(verb))
        .and(path(format!("/ctrl/1.0/{call}")))
        .and(header("Authorization", AUTH))
        .and(NoQuery);
    let mock = match body {
        Some(body) => mock
            .and(header("Content-Type", "application/json"))
            .and(JsonBody(body)),
        None => mock.and(NoBody),
    };
    mock.respond_with(response)
        .expect(1)
        .named(format!("{verb} {call}"))
        .mount(server)
        .await;
}
