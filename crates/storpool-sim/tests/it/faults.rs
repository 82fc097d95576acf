//! Fault injection over HTTP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;
use storpool_sim::{Faults, InjectedError, Sim};

use crate::{Api, GIB, create};

#[test]
fn scripted_transient_errors_fail_the_next_calls_without_effect() {
    let sim = Sim::builder()
        .faults(Faults {
            errors: vec![InjectedError::transient(Some("VolumeCreate"), 2)],
            ..Faults::default()
        })
        .start()
        .unwrap();
    let api = Api::new(&sim);
    for _ in 0..2 {
        let r = api.post(
            "VolumeCreate",
            json!({"name": "v", "size": GIB, "replication": 3}),
        );
        assert_eq!(r.err(), "busy");
        assert_eq!(r.json["error"]["transient"], true);
        assert_eq!(r.status, 500);
    }
    assert!(sim.state().volumes.is_empty());
    create(&api, "v", GIB);
    api.read("VolumesList");
}

#[test]
fn a_lost_answer_closes_the_connection_after_the_change_is_made() {
    let sim = Sim::builder()
        .faults(Faults {
            seed: 3,
            lost_answer_rate: 1.0,
            ..Faults::default()
        })
        .start()
        .unwrap();
    let mut s = TcpStream::connect(sim.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = json!({"name": "kept", "size": GIB, "replication": 2}).to_string();
    let req = format!(
        "POST /ctrl/1.0/VolumeCreate HTTP/1.1\r\nHost: x\r\nAuthorization: Storpool v1:{}\r\nContent-Length: {}\r\n\r\n{body}",
        sim.token(),
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(out.is_empty(), "got {}", String::from_utf8_lossy(&out));
    assert!(sim.state().volume("kept").is_some());
}

#[test]
fn dropped_connections_close_without_an_answer() {
    let sim = Sim::builder()
        .faults(Faults {
            seed: 1,
            drop_rate: 1.0,
            ..Faults::default()
        })
        .start()
        .unwrap();
    let mut s = TcpStream::connect(sim.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "POST /ctrl/1.0/VolumeCreate HTTP/1.1\r\nHost: x\r\nAuthorization: Storpool v1:{}\r\nContent-Length: 2\r\n\r\n{{}}",
        sim.token()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(out.is_empty(), "got {}", String::from_utf8_lossy(&out));
    sim.set_faults(Faults::default());
    assert_eq!(Api::new(&sim).get("VolumesList").status, 200);
}

#[test]
fn random_errors_follow_the_seed() {
    let run = |seed| {
        let sim = Sim::builder()
            .faults(Faults {
                seed,
                error_rate: 0.5,
                ..Faults::default()
            })
            .start()
            .unwrap();
        let api = Api::new(&sim);
        (0..30)
            .map(|_| api.get("VolumesList").status)
            .collect::<Vec<_>>()
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert!(a.contains(&500) && a.contains(&200), "{a:?}");
}
