use storpool_conf::{ConfError, Config, Origin};

use crate::Etc;

fn with(vars: &[(&str, &str)]) -> Config {
    Config::from_vars(vars.iter().copied())
}

#[test]
fn our_id_is_range_checked_and_names_the_section_and_variable() {
    let etc = Etc::new();
    etc.write_main("[node-b]\nSP_OURID=abc\n[node-c]\nSP_OURID=4096\n[node-d]\nSP_OURID=4095\n");
    let err = etc
        .loader()
        .section("node-b")
        .load()
        .unwrap()
        .our_id()
        .unwrap_err();
    let ConfError::InvalidValue {
        variable, origin, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(variable, "SP_OURID");
    assert!(matches!(&**origin, Origin::File { section: Some(s), line: 2, .. } if s == "node-b"));
    let text = err.to_string();
    assert!(
        text.starts_with("invalid SP_OURID value `abc` (from section `[node-b]` of "),
        "{text}"
    );
    assert!(
        text.ends_with("line 2): expected an integer client id 1..4095"),
        "{text}"
    );

    let err = etc
        .loader()
        .section("node-c")
        .load()
        .unwrap()
        .our_id()
        .unwrap_err();
    assert!(err.to_string().contains("between 1 and 4095"), "{err}");
    assert_eq!(
        etc.loader()
            .section("node-d")
            .load()
            .unwrap()
            .our_id()
            .unwrap(),
        Some(4095)
    );
}

#[test]
fn our_id_refuses_signs_blanks_and_zero() {
    for bad in [
        "0",
        "-1",
        "+1",
        "1.0",
        "",
        "0x10",
        "99999999999999999999999",
    ] {
        assert!(with(&[("SP_OURID", bad)]).our_id().is_err(), "{bad:?}");
    }
    assert_eq!(with(&[]).our_id().unwrap(), None);
    assert_eq!(with(&[("SP_OURID", "007")]).our_id().unwrap(), Some(7));
}

#[test]
fn api_port_must_be_a_tcp_port() {
    for bad in ["0", "65536", "eighty", "-81", ""] {
        let err = with(&[("SP_API_HTTP_PORT", bad)]).api_port().unwrap_err();
        assert!(err.to_string().contains("SP_API_HTTP_PORT"), "{err}");
    }
    assert_eq!(
        with(&[("SP_API_HTTP_PORT", "65535")]).api_port().unwrap(),
        65535
    );
}

#[test]
fn api_endpoint_brackets_ipv6_hosts() {
    let config = with(&[("SP_API_HTTP_HOST", "::1"), ("SP_API_HTTP_PORT", "81")]);
    assert_eq!(config.api_endpoint().unwrap().to_string(), "[::1]:81");
}

#[test]
fn a_missing_token_is_an_error_naming_the_variable_and_section() {
    let etc = Etc::new();
    etc.write_main("SP_API_HTTP_HOST=h\n");
    let err = etc
        .loader()
        .section("n1")
        .load()
        .unwrap()
        .auth_token()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SP_AUTH_TOKEN is not set in the StorPool configuration (section `[n1]`)"
    );
}

#[test]
fn the_token_never_appears_in_debug_or_errors() {
    let secret = "5550123456789";
    let config = with(&[("SP_AUTH_TOKEN", secret), ("SP_OURID", "x")]);
    let debug = format!("{config:?} {:?}", config.setting("SP_AUTH_TOKEN"));
    assert!(!debug.contains(secret), "{debug}");
    assert!(debug.contains("<redacted>"));
    assert_eq!(config.auth_token().unwrap().expose(), secret);

    let config = with(&[("SP_AUTH_TOKEN", "")]);
    assert!(config.auth_token().is_err());
    let err = ConfError::InvalidValue {
        variable: "SP_AUTH_TOKEN".into(),
        value: secret.into(),
        origin: Box::new(Origin::Env),
        reason: "bad".into(),
    };
    assert!(!err.to_string().contains(secret));
}

#[test]
fn prefix_and_cluster_accessors_have_their_defaults() {
    let config = with(&[]);
    assert_eq!(config.volume_prefix(), "os");
    assert_eq!(config.cluster_name(), None);
    let config = with(&[
        ("SP_OPENSTACK_VOLUME_PREFIX", "lab"),
        ("SP_CLUSTER_NAME", "fir"),
        ("SP_CLUSTER_ID", "fir.b"),
    ]);
    assert_eq!(config.volume_prefix(), "lab");
    assert_eq!(config.cluster_name(), Some("fir"));
    assert_eq!(config.cluster_id(), Some("fir.b"));
}
