//! Error classification with real cluster answers: what a command-line tool maps to exit
//! codes.

use std::time::Duration;

use storpool_api::{Client, RetryPolicy};
use storpool_driver_core::{Driver, DriverOptions, ErrorKind, Specs};
use storpool_sim::{Faults, InjectedError, Sim};

use crate::{env, vol};

#[tokio::test]
async fn cluster_answers_map_to_kinds_and_keep_name_and_description() {
    let env = env();
    // Not found.
    let err = env.driver.extend_volume("missing", 2).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.is_cluster_failure() && !err.is_user_error());
    assert_eq!(err.operation(), Some("extend volume"));
    assert_eq!(err.object().unwrap().name, vol("missing"));
    assert_eq!(err.object().unwrap().id.as_deref(), Some("missing"));
    let cluster = err.cluster_error().unwrap();
    assert_eq!(cluster.name, "objectDoesNotExist");
    assert!(!cluster.descr.is_empty());
    assert_eq!(
        err.to_string(),
        "extend volume failed on volume `os--volume-missing` (id `missing`)"
    );
    let chain = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        chain.contains("objectDoesNotExist") && chain.contains(&cluster.descr),
        "{chain}"
    );

    // Refused: reverting an attached volume is `busy`.
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("1", "s").await.unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": vol("1"), "rw": [2]}])),
        )
        .unwrap();
    let err = env.driver.revert_volume("1", "s", false).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert_eq!(err.cluster_error().unwrap().name, "busy");
}

#[tokio::test]
async fn transient_errors_beyond_the_retries_are_unavailable_and_create_nothing() {
    let env = env();
    env.sim
        .inject_error(InjectedError::transient(Some("VolumeCreate"), 100));
    let err = env
        .driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_cluster_failure());
    assert_eq!(err.api_error().unwrap().attempts(), 6);
    env.assert_empty();
}

#[tokio::test]
async fn an_unreachable_cluster_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .token("t")
        .retry(RetryPolicy::immediate(1))
        .build()
        .unwrap();
    let driver = Driver::new(client, DriverOptions::new()).unwrap();
    let err = driver.delete_volume("1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_cluster_failure());
}

#[tokio::test]
async fn a_call_that_times_out_is_a_timeout() {
    let sim = Sim::builder()
        .faults(Faults {
            stall_rate: 1.0,
            stall: Duration::from_millis(300),
            ..Faults::default()
        })
        .start()
        .unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy::immediate(3))
        .build()
        .unwrap();
    let driver = Driver::new(client, DriverOptions::new()).unwrap();
    let err = driver.stats().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_cluster_failure());
}
