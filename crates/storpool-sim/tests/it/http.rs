//! Transport: auth, routing, envelopes, connections, bad input.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use serde_json::json;
use storpool_sim::{Sim, SimError};

use crate::{Api, GIB, create, parse_response, sim};

#[test]
fn missing_or_wrong_token_gets_an_error_envelope_with_401() {
    let (_sim, api) = sim();
    let r = api.raw("GET", "/ctrl/1.0/VolumesList", None, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.err(), "invalidParam");
    assert!(r.descr().contains("authentication"), "{r:?}");
    let r = api.raw(
        "GET",
        "/ctrl/1.0/VolumesList",
        Some("Storpool v1:nope"),
        None,
    );
    assert_eq!(r.status, 401);
    let r = api.raw(
        "GET",
        "/ctrl/1.0/VolumesList",
        Some(&format!("StorPool v1:{}", api.token)),
        None,
    );
    assert_eq!(r.status, 401, "the scheme is case-sensitive: `Storpool`");
}

#[test]
fn success_envelope_carries_generation_and_data() {
    let (_sim, api) = sim();
    let r = api.get("VolumesList");
    assert!(r.json["generation"].is_u64());
    assert_eq!(r.data(), &json!([]));
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("content-type: application/json")
    );
}

#[test]
fn every_mutation_bumps_the_generation_and_reads_do_not() {
    let (_sim, api) = sim();
    let g0 = api.get("VolumesList").json["generation"].as_u64().unwrap();
    let created = create(&api, "v1", GIB);
    let g1 = created["generation"].as_u64().unwrap();
    assert!(g1 > g0);
    assert_eq!(created["ok"], json!(true));
    let g2 = api.get("VolumesList").json["generation"].as_u64().unwrap();
    assert_eq!(g1, g2);
}

#[test]
fn connection_is_closed_after_each_answer_by_default() {
    let (_sim, api) = sim();
    let r = api.get("VolumesList");
    assert!(
        r.head.to_ascii_lowercase().contains("connection: close"),
        "{}",
        r.head
    );
}

#[test]
fn keep_alive_mode_answers_several_requests_on_one_connection() {
    let sim = Sim::builder().keep_alive(true).start().unwrap();
    let mut s = TcpStream::connect(sim.addr()).unwrap();
    let req = format!(
        "GET /ctrl/1.0/VolumesList HTTP/1.1\r\nHost: x\r\nAuthorization: Storpool v1:{}\r\n\r\n",
        sim.token()
    );
    for _ in 0..3 {
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let r = parse_response(&buf[..n]);
        assert_eq!(r.status, 200, "{r:?}");
        assert!(!r.head.to_ascii_lowercase().contains("connection: close"));
    }
}

#[test]
fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    // With fsync the change runs on the blocking pool, so the server sees the end of the
    // client's stream while the call is still running.
    let sim = Sim::builder().sync(true).start().unwrap();
    let api = Api::new(&sim);
    let body = br#"{"name": "half", "size": 1073741824, "replication": 3}"#;
    let mut s = TcpStream::connect(api.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /ctrl/1.0/VolumeCreate HTTP/1.0\r\nAuthorization: Storpool v1:{}\r\n\
         Content-Length: {}\r\n\r\n",
        api.token,
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let r = parse_response(&out);
    assert_eq!(r.data()["ok"], json!(true), "{r:?}");
    assert_eq!(sim.state().volumes.len(), 1);
}

#[test]
fn multicluster_and_remote_command_paths_answer_like_local_ones() {
    let (_sim, api) = sim();
    create(&api, "v1", GIB);
    let local = api.read("Volume/v1");
    assert_eq!(api.read("MultiCluster/Volume/v1"), local);
    assert_eq!(api.read("RemoteCommand/sim/Volume/v1"), local);
    assert_eq!(
        api.read("RemoteCommand/~sim.a/MultiCluster/Volume/v1"),
        local
    );
    assert_eq!(
        api.get("RemoteCommand/other/Volume/v1").err(),
        "objectDoesNotExist"
    );
    // Not a MultiCluster call.
    assert_eq!(
        api.get("MultiCluster/VolumeTemplatesList").err(),
        "invalidParam"
    );
}

#[test]
fn unknown_calls_wrong_methods_and_argument_counts_are_refused() {
    let (_sim, api) = sim();
    let r = api.get("NoSuchCall");
    assert_eq!((r.status, r.err()), (404, "invalidParam"));
    assert!(r.descr().contains("NoSuchCall"));
    assert_eq!(api.post("VolumesList", json!({})).err(), "invalidParam");
    assert_eq!(api.get("Volume").err(), "invalidParam");
    assert_eq!(api.raw("GET", "/other", Some("x"), None).status, 401);
}

#[test]
fn bodies_may_be_absent_empty_or_an_empty_object() {
    let (_sim, api) = sim();
    for (i, body) in [None, Some(&b""[..]), Some(&b"{}"[..])]
        .into_iter()
        .enumerate()
    {
        let name = format!("v{i}");
        create(&api, &name, GIB);
        let auth = format!("Storpool v1:{}", api.token);
        let r = api.raw(
            "POST",
            &format!("/ctrl/1.0/VolumeDelete/{name}"),
            Some(&auth),
            body,
        );
        r.data();
    }
}

#[test]
fn malformed_json_wrong_types_and_unknown_members_get_invalid_param() {
    let (sim, api) = sim();
    let auth = format!("Storpool v1:{}", api.token);
    let r = api.raw(
        "POST",
        "/ctrl/1.0/VolumeCreate",
        Some(&auth),
        Some(b"{\"name\": "),
    );
    assert_eq!(r.err(), "invalidParam");
    let r = api.post(
        "VolumeCreate",
        json!({"name": "v", "size": "1G", "replication": 3}),
    );
    assert_eq!(r.err(), "invalidParam");
    assert!(r.descr().contains("`size`"), "{r:?}");
    let r = api.post(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3, "sise": 1}),
    );
    assert!(r.descr().contains("sise"), "{r:?}");
    let r = api.post("VolumeCreate", json!([1, 2]));
    assert_eq!(r.err(), "invalidParam");
    // Nulls are absent.
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3, "template": null}),
    );
    assert_eq!(sim.state().volumes.len(), 1);
}

#[test]
fn huge_bodies_are_refused_without_harm() {
    let sim = Sim::builder().max_body(1024).start().unwrap();
    let api = Api::new(&sim);
    let big = json!({"name": "x".repeat(4096), "size": GIB, "replication": 3});
    let r = api.post("VolumeCreate", big);
    assert_eq!(r.err(), "invalidParam");
    assert!(r.descr().contains("larger than"), "{r:?}");
    assert!(sim.state().volumes.is_empty());
}

#[test]
fn percent_encoded_path_arguments_are_decoded() {
    let (_sim, api) = sim();
    create(&api, "a:b", GIB);
    api.read("Volume/a%3Ab");
}

#[test]
fn error_status_is_configurable_including_200() {
    let sim = Sim::builder().error_status(200).start().unwrap();
    let api = Api::new(&sim);
    let r = api.get("Volume/missing");
    assert_eq!(r.status, 200);
    assert_eq!(r.json["error"]["name"], "objectDoesNotExist");
}

#[test]
fn error_statuses_other_than_200_4xx_and_5xx_are_refused() {
    // 1xx, 204 and 304 carry no body, 3xx redirect: none can carry an error envelope.
    for status in [0, 100, 101, 199, 201, 204, 302, 304, 399, 600, 999] {
        let r = Sim::builder().error_status(status).start();
        assert!(
            matches!(&r, Err(SimError::Option(m)) if m.contains(&status.to_string())),
            "{status}: {r:?}"
        );
    }
    for status in [200, 400, 404, 499, 500, 503, 599] {
        let sim = Sim::builder().error_status(status).start().unwrap();
        assert_eq!(Api::new(&sim).get("Volume/missing").status, status);
    }
}

#[test]
fn an_empty_token_is_refused_instead_of_disabling_authentication() {
    let r = Sim::builder().token("").start();
    assert!(
        matches!(&r, Err(SimError::Option(m)) if m.contains("token")),
        "{r:?}"
    );
}

#[test]
fn a_token_that_only_shares_a_prefix_or_differs_in_length_is_refused() {
    let sim = Sim::builder().token("12345").start().unwrap();
    let api = Api::new(&sim);
    for wrong in ["", "1234", "123456", "12346", "x2345"] {
        let r = api.raw(
            "GET",
            "/ctrl/1.0/VolumesList",
            Some(&format!("Storpool v1:{wrong}")),
            None,
        );
        assert_eq!(r.status, 401, "{wrong:?}");
    }
    let r = api.raw(
        "GET",
        "/ctrl/1.0/VolumesList",
        Some("Storpool v1:12345"),
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn debug_output_never_shows_the_token() {
    let builder = Sim::builder().token("s3cr3t-token");
    assert!(!format!("{builder:?}").contains("s3cr3t"));
    let sim = builder.start().unwrap();
    assert!(!format!("{sim:?}").contains("s3cr3t"));
    assert_eq!(sim.token(), "s3cr3t-token");
}

#[test]
fn generated_tokens_are_long_decimal_numbers() {
    let sim = Sim::start().unwrap();
    assert_eq!(sim.token().len(), 19);
    assert!(sim.token().chars().all(|c| c.is_ascii_digit()));
}

#[test]
fn works_from_inside_a_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Sim::start().unwrap();
        let api = Api::new(&sim);
        let r = tokio::task::spawn_blocking(move || api.get("VolumesList").status)
            .await
            .unwrap();
        assert_eq!(r, 200);
        drop(sim);
    });
}

#[test]
fn many_concurrent_clients_lose_no_mutation() {
    let (sim, api) = sim();
    let addr = api.addr;
    let token = api.token.clone();
    std::thread::scope(|s| {
        for t in 0..8 {
            let token = token.clone();
            s.spawn(move || {
                let api = Api { addr, token };
                for i in 0..20 {
                    create(&api, &format!("c{t}-{i}"), GIB);
                }
            });
        }
    });
    let st = sim.state();
    assert_eq!(st.volumes.len(), 160);
    let g0 = 1;
    assert_eq!(st.generation, g0 + 160);
}
