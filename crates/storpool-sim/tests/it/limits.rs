//! Hostile or broken clients: requests that never finish, too many connections.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use storpool_sim::{Sim, SimError};

use crate::{Api, parse_response};

/// How long a test waits for something that must happen.
const DEADLINE: Duration = Duration::from_secs(10);

/// Whether the server has given up on `s`: its end of stream (or a reset, or anything it
/// wrote before closing) is there to read at once.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    !matches!(s.read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock)
}

#[test]
fn half_sent_requests_are_cut_off_and_a_real_client_is_served_once_slots_free_up() {
    let sim = Sim::builder()
        .request_timeout(Duration::from_millis(300))
        .max_connections(2)
        .start()
        .unwrap();
    // Two connections that send half a request line and then nothing: they take both slots.
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(sim.addr()).unwrap();
            s.write_all(b"GET /ctrl/1.0/Vol").unwrap();
            s
        })
        .collect();
    let api = Api::new(&sim);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || drop(tx.send(api.get("VolumesList"))));
    let r = rx
        .recv_timeout(DEADLINE)
        .expect("the real request got no answer");
    assert_eq!(r.status, 200, "{r:?}");
    // It could only be served in a slot freed by cutting off a half-sent request.
    assert!(
        slow.iter_mut().any(closed_by_server),
        "the real request was served while both slots were taken"
    );
}

#[test]
fn a_body_that_never_arrives_is_answered_with_an_error_after_the_read_timeout() {
    let sim = Sim::builder()
        .request_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    let mut s = TcpStream::connect(sim.addr()).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        s,
        "POST /ctrl/1.0/VolumeCreate HTTP/1.1\r\nHost: x\r\nAuthorization: Storpool v1:{}\r\n\
         Content-Length: 100\r\n\r\n{{\"name\": ",
        sim.token()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("no answer before the deadline");
    let r = parse_response(&out);
    assert_eq!((r.status, r.err()), (408, "invalidParam"), "{r:?}");
    assert!(r.descr().contains("body"), "{r:?}");
    assert!(sim.state().volumes.is_empty());
}

#[test]
fn zero_limits_are_refused() {
    for builder in [
        Sim::builder().request_timeout(Duration::ZERO),
        Sim::builder().max_connections(0),
    ] {
        let r = builder.start();
        assert!(matches!(r, Err(SimError::Option(_))), "{r:?}");
    }
}
