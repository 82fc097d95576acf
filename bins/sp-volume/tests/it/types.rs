//! Volume types: templates, replication, QoS, retype.

use crate::{RetypeJson, VolumeJson, node};

/// A node with the templates `ssd` (replication 3) and `hdd` (replication 2).
fn node_with_templates() -> crate::Node {
    let node = node();
    node.sim.seed_template("ssd", Some(3), None).unwrap();
    node.sim.seed_template("hdd", Some(2), None).unwrap();
    node
}

#[test]
fn the_types_template_then_the_default_template_then_the_default_replication() {
    let node = node_with_templates();
    let ssd: VolumeJson = node
        .run(&[
            "create",
            "a",
            "--size",
            "1",
            "--type-spec",
            "storpool_template=ssd",
            "--json",
        ])
        .json();
    assert_eq!(ssd.template.as_deref(), Some("ssd"));
    let default: VolumeJson = node
        .run(&[
            "--default-template",
            "hdd",
            "create",
            "b",
            "--size",
            "1",
            "--json",
        ])
        .json();
    assert_eq!(default.template.as_deref(), Some("hdd"));
    assert_eq!(default.replication, 2);
    let plain: VolumeJson = node
        .run(&[
            "create",
            "c",
            "--size",
            "1",
            "--default-replication",
            "1",
            "--json",
        ])
        .json();
    assert_eq!((plain.template, plain.replication), (None, 1));
}

#[test]
fn an_unknown_template_is_a_failure_on_the_cluster() {
    let node = node_with_templates();
    let run = node.run(&[
        "create",
        "a",
        "--size",
        "1",
        "--type-spec",
        "storpool_template=nope",
    ]);
    let line = run.failed(1);
    assert!(
        line.contains("create volume failed on volume `os--volume-a`"),
        "{line}"
    );
    assert!(line.contains("objectDoesNotExist"), "{line}");
    assert!(node.volume("os--volume-a").is_none());
    // A template name that cannot be one is bad input.
    let line = node
        .run(&[
            "create",
            "a",
            "--size",
            "1",
            "--type-spec",
            "storpool_template=a b",
        ])
        .failed(2)
        .to_owned();
    assert!(line.contains("storpool_template"), "{line}");
    let line = node
        .run(&["--default-template", "a/b", "list"])
        .failed(2)
        .to_owned();
    assert!(line.contains("invalid `--default-template a/b`"), "{line}");
}

#[test]
fn qos_specs_become_the_volumes_limits_and_unsupported_keys_are_refused() {
    let node = node();
    let volume: VolumeJson = node
        .run(&[
            "create",
            "q",
            "--size",
            "1",
            "--type-spec",
            "total_iops_sec=1000",
            "--type-spec",
            "storpool:bw=100",
            "--json",
        ])
        .json();
    assert_eq!((volume.iops, volume.bw), (Some(1000), Some(100)));
    let on_cluster = node.sim.call("GET", "Volume/os--volume-q", None).unwrap();
    assert_eq!(on_cluster[0]["iops"], 1000);
    assert_eq!(on_cluster[0]["bw"], 100);
    let line = node
        .run(&[
            "create",
            "r",
            "--size",
            "1",
            "--type-spec",
            "read_iops_sec=10",
        ])
        .failed(2)
        .to_owned();
    assert!(line.contains("read_iops_sec"), "{line}");
    let line = node
        .run(&[
            "create",
            "r",
            "--size",
            "1",
            "--type-spec",
            "a=1",
            "--type-spec",
            "a=2",
        ])
        .failed(2)
        .to_owned();
    assert!(line.contains("`--type-spec a` is given twice"), "{line}");
    let run = node.run(&["create", "r", "--size", "1", "--type-spec", "novalue"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("expected KEY=VALUE"), "{run:#?}");
}

#[test]
fn retype_changes_the_template_and_limits_or_says_nothing_changed() {
    let node = node_with_templates();
    node.run(&[
        "create",
        "v",
        "--size",
        "1",
        "--type-spec",
        "storpool_template=ssd",
    ])
    .ok();
    let retyped: RetypeJson = node
        .run(&[
            "retype",
            "v",
            "--type-spec",
            "storpool_template=hdd",
            "--type-spec",
            "total_iops_sec=500",
            "--json",
        ])
        .json();
    assert!(retyped.retyped);
    assert_eq!(retyped.refused, None);
    assert!(
        retyped.changed.contains(&"template".to_owned()),
        "{retyped:?}"
    );
    assert!(retyped.changed.contains(&"iops".to_owned()), "{retyped:?}");
    let state = node.volume("os--volume-v").unwrap();
    assert_eq!(
        (state.template.as_deref(), state.replication),
        (Some("hdd"), 2)
    );
    let text = node
        .run(&[
            "retype",
            "v",
            "--type-spec",
            "storpool_template=hdd",
            "--type-spec",
            "total_iops_sec=500",
        ])
        .ok()
        .to_owned();
    assert_eq!(
        text,
        "volume `v` already matches the new type: nothing changed\n"
    );
}

#[test]
fn a_retype_that_needs_a_migration_is_refused_with_exit_1() {
    let node = node_with_templates();
    node.run(&["create", "v", "--size", "1"]).ok();
    let run = node.run(&[
        "retype",
        "v",
        "--type-spec",
        "volume_backend_name=other",
        "--json",
    ]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let outcome: RetypeJson = serde_json::from_str(&run.stdout).unwrap();
    assert!(!outcome.retyped);
    assert_eq!(
        outcome.refused,
        Some(
            serde_json::json!({"reason": "backend_change", "current": "storpool", "requested": "other"})
        )
    );
    let line = run.error_line();
    assert!(line.contains("retype of volume `v` refused"), "{line}");
    assert!(run.stderr.contains("hint: migrate"), "{run:#?}");
    let run = node.run(&["retype", "v", "--encryption-changed"]);
    assert!(run.failed(1).contains("the encryption changes"), "{run:#?}");
    assert_eq!(node.volume("os--volume-v").unwrap().template, None);
}

#[test]
fn a_misspelt_type_spec_is_refused_with_a_did_you_mean_and_nothing_is_made_issue_14() {
    let node = node_with_templates();
    let run = node.run(&[
        "create",
        "typo",
        "--size",
        "1",
        "--type-spec",
        "storpool_tempalte=ssd",
    ]);
    let line = run.failed(2);
    assert!(
        line.contains("storpool_tempalte=ssd") && line.contains("did you mean `storpool_template`"),
        "{line}"
    );
    assert!(node.sim.state().volumes.is_empty(), "nothing was created");
}

#[test]
fn storpool_replication_in_a_type_is_applied_issue_14() {
    let node = node_with_templates();
    let volume: VolumeJson = node
        .run(&[
            "create",
            "r",
            "--size",
            "1",
            "--type-spec",
            "storpool_replication=2",
            "--json",
        ])
        .json();
    assert_eq!((volume.template.as_deref(), volume.replication), (None, 2));
}

#[test]
fn an_unscoped_unknown_spec_warns_and_other_systems_keys_pass_quietly_issue_14() {
    let node = node_with_templates();
    let run = node.run(&[
        "create",
        "a",
        "--size",
        "1",
        "--type-spec",
        "fancy_feature=on",
        "--type-spec",
        "capabilities:compression=<is> True",
        "--type-spec",
        "volume_backend_name=storpool",
        "--type-spec",
        "multiattach=<is> True",
    ]);
    run.ok();
    assert_eq!(
        run.stderr,
        "sp-volume: warning: ignoring the volume-type spec `fancy_feature`: no StorPool driver \
         reads it\n"
    );
    // -q: errors only.
    let run = node.run(&["-q", "retype", "a", "--type-spec", "fancy_feature=on"]);
    run.ok();
    assert_eq!(run.stderr, "");
    // Scoped and known keys alone: nothing said.
    let run = node.run(&[
        "create",
        "b",
        "--size",
        "1",
        "--type-spec",
        "qos:total_iops_sec=100",
        "--type-spec",
        "capabilities:x=y",
    ]);
    run.ok();
    assert_eq!(run.stderr, "");
}

#[test]
fn backend_defaults_come_from_the_environment_too_issue_14() {
    let node = node_with_templates();
    let run_env = |vars: &[(&str, &str)], args: &[&str]| {
        let mut cmd = crate::command(node.dir.path());
        cmd.envs(vars.iter().copied())
            .arg("--config")
            .arg(node.conf())
            .args(args);
        node.checked(cmd, args)
    };
    let volume: VolumeJson = run_env(
        &[("STORPOOL_DEFAULT_TEMPLATE", "hdd")],
        &["create", "a", "--size", "1", "--json"],
    )
    .json();
    assert_eq!(volume.template.as_deref(), Some("hdd"));
    let volume: VolumeJson = run_env(
        &[("STORPOOL_DEFAULT_REPLICATION", "2")],
        &["create", "b", "--size", "1", "--json"],
    )
    .json();
    assert_eq!((volume.template, volume.replication), (None, 2));
    // The flag beats the variable.
    let volume: VolumeJson = run_env(
        &[("STORPOOL_DEFAULT_REPLICATION", "2")],
        &[
            "create",
            "c",
            "--size",
            "1",
            "--default-replication",
            "1",
            "--json",
        ],
    )
    .json();
    assert_eq!(volume.replication, 1);
    // The backend name: stats report it, and retype refuses another one.
    let stats: crate::StatsJson = run_env(
        &[("STORPOOL_BACKEND_NAME", "fast-pool")],
        &["stats", "--json"],
    )
    .json();
    assert_eq!(stats.volume_backend_name, "fast-pool");
    let stats: crate::StatsJson = node
        .run(&["--backend-name", "other", "stats", "--json"])
        .json();
    assert_eq!(stats.volume_backend_name, "other");
    let run = run_env(
        &[("STORPOOL_BACKEND_NAME", "fast-pool")],
        &["retype", "a", "--type-spec", "volume_backend_name=storpool"],
    );
    assert!(
        run.failed(1)
            .contains("backend `storpool`, this one is `fast-pool`"),
        "{run:#?}"
    );
    // A bad value names the variable.
    let run = run_env(
        &[("STORPOOL_DEFAULT_REPLICATION", "7")],
        &["create", "d", "--size", "1"],
    );
    assert!(run.failed(2).contains("'7'"), "{run:#?}");
}
