use storpool_conf::{ConfError, Loader, Origin, SyntaxError};

use crate::Etc;

/// The example from os-brick's tests: global values, two host sections, a drop-in that moves
/// the API host.
fn os_brick_example() -> Etc {
    let etc = Etc::new();
    etc.write_main(
        "SP_API_HTTP_HOST=127.0.0.1\nSP_API_HTTP_PORT=81\nSP_AUTH_TOKEN=1234567890123456789\n\n\
         [this-node]\nSP_OURID=1\n\n[another-node]\nSP_OURID=2\n",
    )
    .write_drop_in("api.conf", "SP_API_HTTP_HOST=10.0.0.6\n");
    etc
}

#[test]
fn the_os_brick_example_gives_each_node_its_own_id_and_the_moved_host() {
    let etc = os_brick_example();
    let this = etc.loader().section("this-node").load().unwrap();
    assert_eq!(this.our_id().unwrap(), Some(1));
    assert_eq!(this.api_host().unwrap(), "10.0.0.6");
    assert_eq!(this.api_port().unwrap(), 81);
    assert_eq!(this.auth_token().unwrap().expose(), "1234567890123456789");
    let other = etc.loader().section("another-node").load().unwrap();
    assert_eq!(other.our_id().unwrap(), Some(2));
    let nobody = etc.loader().section("no-such-node").load().unwrap();
    assert_eq!(nobody.our_id().unwrap(), None);
}

#[test]
fn drop_ins_are_read_sorted_and_only_visible_conf_files() {
    let etc = Etc::new();
    etc.write_main("A=main\nB=main\nC=main\nD=main\n")
        .write_drop_in("20-b.conf", "B=20\nC=20\n")
        .write_drop_in("10-a.conf", "A=10\nB=10\nC=10\n")
        .write_drop_in(".30-hidden.conf", "C=hidden\n")
        .write_drop_in("40-backup.conf.bak", "D=bak\n")
        .write_drop_in("50-noext", "D=noext\n");
    let config = etc.loader().load().unwrap();
    assert_eq!(config.get("A"), Some("10"));
    assert_eq!(config.get("B"), Some("20"));
    assert_eq!(config.get("C"), Some("20"));
    assert_eq!(config.get("D"), Some("main"));
    let names: Vec<_> = config
        .files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["storpool.conf", "10-a.conf", "20-b.conf"]);
}

#[test]
fn each_file_applies_its_global_part_then_its_host_section() {
    // Official reader: per file, global then section. The main file's host section is beaten
    // by a later drop-in's global value (os-brick would keep the host value here).
    let etc = Etc::new();
    etc.write_main("X=main-global\n[node]\nX=main-node\nY=main-node\n")
        .write_drop_in("a.conf", "X=dropin-global\n");
    let config = etc.loader().section("node").load().unwrap();
    assert_eq!(config.get("X"), Some("dropin-global"));
    assert_eq!(config.get("Y"), Some("main-node"));
    // Within one file the section wins over the global part wherever it is written.
    etc.write_main("[node]\nZ=node\n");
    etc.write_drop_in("a.conf", "[node]\nW=node\n[other]\nW=other\n");
    let config = etc.loader().section("node").load().unwrap();
    assert_eq!(config.get("Z"), Some("node"));
    assert_eq!(config.get("W"), Some("node"));
}

#[test]
fn the_node_name_is_the_default_section() {
    let node = storpool_conf::node_name();
    let etc = Etc::new();
    etc.write_main(&format!("[{node}]\nSP_OURID=17\n"));
    let config = etc.loader().load().unwrap();
    assert_eq!(config.section(), node);
    assert_eq!(config.our_id().unwrap(), Some(17));
}

#[test]
fn defaults_are_the_official_table_and_files_override_them() {
    let etc = Etc::new();
    etc.write_main("SP_CACHE_SIZE=8192\n");
    let config = etc.loader().load().unwrap();
    assert_eq!(config.get("SP_WORKDIR"), Some("/var/run/storpool"));
    assert_eq!(config.get("SP_API_HTTP_HOST"), Some("127.0.0.1"));
    assert_eq!(config.get("SP_API_HTTP_PORT"), Some("81"));
    assert_eq!(config.get("SP_GUI_HTTP_HOST"), Some(""));
    assert_eq!(config.get("SP_CACHE_SIZE"), Some("8192"));
    assert_eq!(
        config.setting("SP_WORKDIR").unwrap().origin(),
        &Origin::Default
    );
    assert_eq!(config.iter().count(), storpool_conf::DEFAULTS.len());
}

#[test]
fn environment_overrides_win_and_can_be_turned_off() {
    let etc = os_brick_example();
    let env = [
        ("SP_AUTH_TOKEN", "999"),
        ("SP_API_HTTP_HOST", "192.0.2.1"),
        ("SP_API_HTTP_PORT", "8181"),
        ("SP_OURID", "5"),
    ];
    let config = Loader::new(etc.main())
        .section("this-node")
        .env_vars(env)
        .load()
        .unwrap();
    assert_eq!(config.api_endpoint().unwrap().to_string(), "192.0.2.1:8181");
    assert_eq!(config.auth_token().unwrap().expose(), "999");
    assert_eq!(
        config.setting("SP_API_HTTP_HOST").unwrap().origin(),
        &Origin::Env
    );
    // Only the three documented variables come from the environment.
    assert_eq!(config.our_id().unwrap(), Some(1));

    let config = Loader::new(etc.main())
        .env_vars(env)
        .use_env(false)
        .load()
        .unwrap();
    assert_eq!(config.api_host().unwrap(), "10.0.0.6");
}

#[test]
fn an_empty_environment_value_still_overrides() {
    let etc = os_brick_example();
    let config = Loader::new(etc.main())
        .env_vars([("SP_API_HTTP_HOST", "")])
        .load()
        .unwrap();
    assert_eq!(config.get("SP_API_HTTP_HOST"), Some(""));
    assert!(matches!(
        config.api_host(),
        Err(ConfError::InvalidValue { origin, .. }) if *origin == Origin::Env
    ));
}

#[test]
fn a_missing_main_file_is_an_error_naming_it_unless_missing_ok() {
    let etc = Etc::new();
    let err = etc.loader().load().unwrap_err();
    assert!(matches!(&err, ConfError::MissingMainFile { path } if *path == etc.main()));
    assert_eq!(
        err.to_string(),
        format!(
            "the StorPool configuration file {} does not exist",
            etc.main().display()
        )
    );

    etc.write_drop_in("a.conf", "SP_OURID=3\n");
    let config = etc.loader().missing_ok(true).load().unwrap();
    assert_eq!(config.our_id().unwrap(), Some(3));
    assert_eq!(config.files().len(), 1);
}

#[test]
fn missing_ok_skips_drop_ins_that_are_not_files() {
    let etc = Etc::new();
    etc.write_main("A=1\n");
    std::fs::create_dir_all(etc.path().join("storpool.conf.d/dir.conf")).unwrap();
    assert!(matches!(
        etc.loader().load(),
        Err(ConfError::NotAFile {
            kind: "a folder",
            ..
        })
    ));
    assert_eq!(
        etc.loader().missing_ok(true).load().unwrap().files().len(),
        1
    );
}

#[test]
fn syntax_errors_name_the_drop_in_file_and_line() {
    let etc = Etc::new();
    etc.write_main("A=1\n")
        .write_drop_in("bad.conf", "# ok\nB=2\nthis is wrong\n");
    let err = etc.loader().load().unwrap_err();
    let ConfError::Syntax {
        path, line, reason, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(path.ends_with("storpool.conf.d/bad.conf"));
    assert_eq!(*line, 3);
    assert_eq!(*reason, SyntaxError::MissingEquals);
    assert!(
        err.to_string().contains("bad.conf:3: expected `=`"),
        "{err}"
    );
}

#[test]
fn sections_are_listed_sorted_and_deduplicated_across_files() {
    let etc = os_brick_example();
    etc.write_drop_in("z.conf", "[zeta]\nA=1\n[this-node]\nB=2\n");
    assert_eq!(
        etc.loader().sections().unwrap(),
        ["another-node", "this-node", "zeta"]
    );
}

#[test]
fn system_loader_honours_storpool_conf() {
    // The variable is read by `system_main_file`; without it the path is /etc/storpool.conf.
    let path = storpool_conf::system_main_file();
    match std::env::var_os("STORPOOL_CONF") {
        Some(value) if !value.is_empty() => assert_eq!(path, std::path::PathBuf::from(value)),
        _ => assert_eq!(path, std::path::Path::new("/etc/storpool.conf")),
    }
}
