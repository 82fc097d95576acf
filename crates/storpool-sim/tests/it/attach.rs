//! Attachments, rights, detach rules, waits.

use serde_json::json;

use crate::{Api, GIB, create, sim};

#[test]
fn attach_with_string_client_ids_and_list_attachments() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    api.ok(
        "MultiCluster/VolumesReassignWait",
        json!({"reassign": [{"volume": "v", "rw": ["1"]}]}),
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "ro": [2, 3]}]));
    let list = api.read("AttachmentsList");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let a = &list[0];
    assert_eq!(
        (
            a["volume"].as_str(),
            a["snapshot"].as_bool(),
            a["client"].as_u64(),
            a["rights"].as_str()
        ),
        (Some("v"), Some(false), Some(1), Some("rw"))
    );
    assert!(a["pos"].is_u64() && a["globalId"].is_string());
    // Upgrade ro -> rw on client 2, downgrade rw -> ro on 1.
    api.ok(
        "VolumesReassign",
        json!([{"volume": "v", "rw": [2], "ro": [1]}]),
    );
    let st = sim.state();
    let rights: Vec<(u16, bool)> = st.attachments.iter().map(|a| (a.client, a.rw)).collect();
    assert_eq!(rights, vec![(1, false), (2, true), (3, false)]);
    api.ok("VolumesReassign", json!([{"volume": "v", "detach": [2]}]));
    api.ok("VolumesReassign", json!([{"volume": "v", "detach": [2]}]));
    api.ok("VolumesReassign", json!([{"volume": "v", "detach": "all"}]));
    assert!(sim.state().attachments.is_empty());
}

#[test]
fn reassign_validates_everything_and_changes_nothing_on_error() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    create(&api, "w", GIB);
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    let r = api.post(
        "VolumesReassign",
        json!([{"volume": "v", "rw": [1]}, {"volume": "w", "rw": [999]}]),
    );
    assert_eq!(r.err(), "invalidParam");
    assert!(r.descr().contains("No such client registered"), "{r:?}");
    assert!(sim.state().attachments.is_empty(), "all or nothing");
    assert_eq!(
        api.post("VolumesReassign", json!([{"volume": "v", "rw": [5000]}]))
            .err(),
        "invalidParam"
    );
    assert_eq!(
        api.post(
            "VolumesReassign",
            json!([{"volume": "v", "rw": [1], "ro": [1]}])
        )
        .err(),
        "invalidParam"
    );
    assert_eq!(
        api.post("VolumesReassign", json!([{"snapshot": "s", "rw": [1]}]))
            .err(),
        "invalidParam"
    );
    assert_eq!(
        api.post("VolumesReassign", json!([{"volume": "nope", "rw": [1]}]))
            .err(),
        "objectDoesNotExist"
    );
    assert_eq!(
        api.post("VolumesReassign", json!([{"volume": "v", "snapshot": "s"}]))
            .err(),
        "invalidParam"
    );
    api.ok("VolumesReassign", json!([{"snapshot": "s", "ro": [1]}]));
    let a = &api.read("AttachmentsList")[0];
    assert_eq!(
        (a["snapshot"].as_bool(), a["rights"].as_str()),
        (Some(true), Some("ro"))
    );
    // Attached objects cannot be deleted.
    assert_eq!(api.post("SnapshotDelete/s", json!({})).err(), "busy");
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    assert_eq!(api.post("VolumeDelete/v", json!({})).err(), "busy");
    api.ok("VolumeDelete/v", json!({"onAttached": "detachForce"}));
}

#[test]
fn detach_of_an_open_device_is_busy_unless_forced() {
    let (sim, api) = sim();
    let gid = create(&api, "os--volume-1", GIB)["globalId"]
        .as_str()
        .unwrap()
        .to_owned();
    api.ok(
        "VolumesReassignWait",
        json!({"reassign": [{"volume": "os--volume-1", "rw": ["1"]}]}),
    );
    sim.set_device_open("os--volume-1", 1, true);
    let detach =
        json!({"reassign": [{"volume": format!("~{gid}"), "detach": ["1"], "force": false}]});
    let r = api.post("MultiCluster/VolumesReassignWait", detach.clone());
    assert_eq!(r.err(), "busy");
    assert!(r.descr().contains("is open at"), "{r:?}");
    assert_eq!(r.descr(), "'os--volume-1' is open at client 1");
    // detach "all" is refused too, as is delete with onAttached=detach.
    assert_eq!(
        api.post(
            "VolumesReassign",
            json!([{"volume": "os--volume-1", "detach": "all"}])
        )
        .err(),
        "busy"
    );
    assert_eq!(
        api.post("VolumeDelete/os--volume-1", json!({"onAttached": "detach"}))
            .err(),
        "busy"
    );
    // Force works.
    api.ok(
        "VolumesReassignWait",
        json!({"reassign": [{"volume": format!("~{gid}"), "detach": ["1"], "force": true}]}),
    );
    assert!(sim.state().attachments.is_empty());
    sim.set_device_open("os--volume-1", 1, false);
}

#[test]
fn reassign_wait_waits_for_a_down_client_up_to_attach_timeout() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    sim.set_client_running(2, false);
    // attachTimeout 0: no wait.
    api.ok(
        "VolumesReassignWait",
        json!({"reassign": [{"volume": "v", "ro": [2]}], "attachTimeout": 0}),
    );
    let dump = api.read("ClientsConfigDump");
    let c2 = dump
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == 2)
        .unwrap()
        .clone();
    assert_eq!(c2["configStatus"], "down");
    assert!(c2["clientGeneration"].as_u64() < c2["generation"].as_u64());
    // No timeout: the call returns once the client comes up.
    let handle = sim.handle();
    let addr = api.addr;
    let token = api.token.clone();
    let waiter = std::thread::spawn(move || {
        let api = Api { addr, token };
        api.ok(
            "VolumesReassignWait",
            json!({"reassign": [{"volume": "v", "rw": [2]}]}),
        )
    });
    // Bring the client up; the waiter may or may not have started waiting yet: either way
    // it must finish.
    handle.set_client_running(2, true);
    let r = waiter.join().unwrap();
    assert_eq!(r["ok"], true);
    assert_eq!(api.read("ClientConfigWait/2")[0]["configStatus"], "ok");
}

#[test]
fn no_free_slot_on_a_client_is_invalid_param() {
    let (sim, api) = sim();
    for i in 0..1024 {
        sim.seed_volume(&format!("v{i}"), 512, None).unwrap();
    }
    let entries: Vec<_> = (0..1024)
        .map(|i| json!({"volume": format!("v{i}"), "ro": [7]}))
        .collect();
    api.ok("VolumesReassign", json!(entries));
    sim.seed_volume("last", 512, None).unwrap();
    let r = api.post("VolumesReassign", json!([{"volume": "last", "ro": [7]}]));
    assert_eq!(r.err(), "invalidParam");
    assert!(r.descr().contains("slot"), "{r:?}");
}

#[test]
fn client_config_wait_returns_once_the_client_is_up() {
    let (sim, api) = sim();
    sim.set_client_running(5, false);
    let addr = api.addr;
    let token = api.token.clone();
    let waiter = std::thread::spawn(move || Api { addr, token }.read("ClientConfigWait/5"));
    sim.set_client_running(5, true);
    let r = waiter.join().unwrap();
    assert_eq!(r[0]["configStatus"], "ok");
    assert_eq!(api.get("ClientConfigWait/77").err(), "invalidParam");
}

#[test]
fn an_attach_whose_data_file_cannot_be_made_fails_and_changes_nothing() {
    let (sim, api) = sim();
    let gid = create(&api, "v", GIB)["globalId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Something the data file cannot be created over (as EFBIG for a 20 TiB volume on ext4,
    // or ENOSPC, would refuse it).
    let blocker = sim.state_dir().join("data").join(&gid);
    std::fs::create_dir_all(&blocker).unwrap();
    let generation = sim.state().generation;
    for call in ["VolumesReassign", "VolumesReassignWait"] {
        let body = if call == "VolumesReassign" {
            json!([{"volume": "v", "rw": [1]}])
        } else {
            json!({"reassign": [{"volume": "v", "rw": [1]}]})
        };
        let r = api.post(call, body);
        assert_eq!(r.err(), "insufficientResources", "{call}: {r:?}");
        assert_eq!(r.json["error"]["transient"], json!(false), "{r:?}");
        assert!(r.descr().contains("`v`"), "{r:?}");
        let st = sim.state();
        assert!(
            st.attachments.is_empty(),
            "{call}: attached without a device"
        );
        assert_eq!(st.generation, generation);
        assert!(
            std::fs::symlink_metadata(sim.dev_root().join("storpool/v")).is_err(),
            "{call}: a link was made"
        );
    }
    // Attaching elsewhere needs no file of this host; and once the obstacle is gone, here too.
    api.ok("VolumesReassign", json!([{"volume": "v", "ro": [2]}]));
    std::fs::remove_dir(&blocker).unwrap();
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    assert!(sim.dev_root().join("storpool/v").exists());
}
