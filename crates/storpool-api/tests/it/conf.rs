//! Building the client from storpool.conf, and sharing it between tasks.

use serde_json::json;
use storpool_api::{ApiError, Client, ClientBuilder, RetryPolicy};
use storpool_conf::Config;
use wiremock::Mock;
use wiremock::matchers::{header, method, path};

use crate::{AUTH, TOKEN, data, server};

#[tokio::test]
async fn from_conf_uses_host_port_and_token() {
    let server = server().await;
    let address = server.address();
    let config = Config::from_vars([
        ("SP_API_HTTP_HOST", address.ip().to_string()),
        ("SP_API_HTTP_PORT", address.port().to_string()),
        ("SP_AUTH_TOKEN", TOKEN.to_owned()),
    ]);
    crate::expect(
        &server,
        "GET",
        "ServicesList",
        None,
        data(json!({
            "clusterStatus": "running", "mgmt": {}, "servers": {}
        })),
    )
    .await;
    let client = Client::from_conf(&config).unwrap();
    assert_eq!(client.base_url(), format!("http://{address}"));
    assert_eq!(client.retry_policy(), &RetryPolicy::default());
    assert!(!client.is_multi_cluster());
    client.services().list().await.unwrap();
}

#[test]
fn from_conf_without_a_token_is_a_config_error() {
    let config = Config::from_vars([
        ("SP_API_HTTP_HOST", "127.0.0.1"),
        ("SP_API_HTTP_PORT", "81"),
    ]);
    let err = ClientBuilder::from_conf(&config).unwrap_err();
    assert!(matches!(err, ApiError::Config(_)), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn one_client_serves_many_concurrent_calls() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/ctrl/1.0/VolumesList"))
        .and(header("Authorization", AUTH))
        .respond_with(data(json!([])))
        .expect(64)
        .mount(&server)
        .await;
    let client = crate::client(&server);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..4 {
                    client.volumes().list().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}
