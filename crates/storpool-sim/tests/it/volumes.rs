//! Volumes, snapshots and templates: semantics and response shapes.

use serde_json::{Value, json};
use storpool_sim::{ClusterLayout, Sim};

use crate::{Api, GIB, create, sim};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn volume_summary_has_every_field_with_the_right_type() {
    let (_sim, api) = sim();
    let created = create(&api, "v1", GIB);
    let gid = created["globalId"].as_str().unwrap().to_owned();
    assert!(
        created.get("name").is_none(),
        "named volumes get no `name` back"
    );
    let v = &api.read("Volume/v1")[0];
    for k in [
        "id",
        "parentVolumeId",
        "originalParentVolumeId",
        "visibleVolumeId",
        "templateId",
        "objectsCount",
        "creationTimestamp",
        "flags",
        "firstNotParentObjectId",
        "size",
        "replication",
    ] {
        assert!(v[k].is_u64(), "{k} in {v}");
    }
    for k in [
        "name",
        "parentName",
        "templateName",
        "globalId",
        "placeAll",
        "placeTail",
        "placeHead",
    ] {
        assert!(v[k].is_string(), "{k} in {v}");
    }
    assert_eq!(v["bw"], "-");
    assert_eq!(v["iops"], "-");
    assert_eq!(v["tags"], json!({}));
    assert_eq!(v["globalId"], gid.as_str());
    assert_eq!(v["objectsCount"], 32);
    assert_eq!(v["placeAll"], "default");
    // By global id too.
    assert_eq!(api.read(&format!("Volume/~{gid}"))[0]["name"], "v1");
}

#[test]
fn create_validates_its_input() {
    let (_sim, api) = sim();
    let bad = [
        json!({"name": "v", "size": 0, "replication": 3}),
        json!({"name": "v", "size": 1000, "replication": 3}),
        json!({"name": "v", "size": GIB, "replication": 4}),
        json!({"name": "v", "size": GIB}),
        json!({"name": "bad name", "size": GIB, "replication": 3}),
        json!({"name": "list", "size": GIB, "replication": 3}),
        json!({"name": "v@1", "size": GIB, "replication": 3}),
        json!({"name": "v", "replication": 3}),
        json!({"name": "v", "size": GIB, "replication": 3, "bw": "fast"}),
    ];
    for b in bad {
        let r = api.post("VolumeCreate", b.clone());
        assert_eq!(r.err(), "invalidParam", "{b}: {r:?}");
        assert!(!r.descr().is_empty());
    }
    create(&api, "v", GIB);
    assert_eq!(
        api.post(
            "VolumeCreate",
            json!({"name": "v", "size": GIB, "replication": 3})
        )
        .err(),
        "objectExists"
    );
    let r = api.post(
        "VolumeCreate",
        json!({"name": "w", "size": GIB, "template": "nope"}),
    );
    assert_eq!(r.err(), "objectDoesNotExist");
    let r = api.post(
        "VolumeCreate",
        json!({"name": "w", "size": GIB, "parent": "nope"}),
    );
    assert_eq!(r.err(), "objectDoesNotExist");
    let r = api.post(
        "VolumeCreate",
        json!({"name": "w", "size": GIB, "replication": 3, "placeAll": "nope"}),
    );
    assert_eq!(r.err(), "objectDoesNotExist");
    let r = api.post(
        "VolumeCreate",
        json!({"name": "w", "size": 1u64 << 50, "replication": 3}),
    );
    assert_eq!(r.err(), "insufficientResources");
}

#[test]
fn unnamed_volumes_are_named_by_global_id() {
    let (_sim, api) = sim();
    let c = api.ok(
        "VolumeCreate",
        json!({"name": "", "size": 512, "replication": 1}),
    );
    let gid = c["globalId"].as_str().unwrap();
    assert_eq!(c["name"], format!("~{gid}"));
    let list = api.read("VolumesList");
    assert_eq!(list[0]["name"], format!("~{gid}"));
}

#[test]
fn a_snapshot_becomes_the_parent_of_its_volume() {
    let (_sim, api) = sim();
    create(&api, "v", GIB);
    let s1 = api.ok(
        "VolumeSnapshot/v",
        json!({"name": "s1", "tags": {"k": "v"}}),
    );
    assert!(s1["snapshotGlobalId"].is_string());
    assert!(s1["snapshotVisibleVolumeId"].is_u64());
    assert!(s1.get("autoName").is_none());
    api.ok("VolumeSnapshot/v", json!({"name": "s2"}));
    let v = &api.read("Volume/v")[0];
    assert_eq!(v["parentName"], "s2");
    let s2 = &api.read("Snapshot/s2")[0];
    assert_eq!(s2["parentName"], "s1");
    assert_eq!(s2["onVolume"], "v");
    assert_eq!(s2["size"], GIB);
    assert_eq!(s2["autoName"], false);
    assert_eq!(s2["tags"], json!({}));
    let chain: Vec<Value> = api
        .read("VolumeListSnapshots/v")
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(chain, vec![json!("s2"), json!("s1")]);
    // Anonymous snapshot.
    let anon = api.ok("VolumeSnapshot/v", json!({}));
    let name = anon["autoName"].as_str().unwrap();
    assert!(name.starts_with("v@"), "{name}");
    assert_eq!(api.read(&format!("Snapshot/{name}"))[0]["autoName"], true);
    // Names are shared between volumes and snapshots.
    assert_eq!(
        api.post("VolumeSnapshot/v", json!({"name": "v"})).err(),
        "objectExists"
    );
    assert_eq!(
        api.post(
            "VolumeCreate",
            json!({"name": "s1", "size": GIB, "replication": 3})
        )
        .err(),
        "objectExists"
    );
    assert_eq!(api.get("Volume/s1").err(), "objectDoesNotExist");
    assert_eq!(api.get("Snapshot/v").err(), "objectDoesNotExist");
}

#[test]
fn create_from_parent_inherits_size_template_and_refuses_smaller_sizes() {
    let (sim, api) = sim();
    sim.seed_template("hybrid", Some(2), None).unwrap();
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "template": "hybrid"}),
    );
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    api.ok("VolumeCreate", json!({"name": "c1", "parent": "s"}));
    let c1 = &api.read("Volume/c1")[0];
    assert_eq!(
        (
            c1["size"].as_u64(),
            c1["templateName"].as_str(),
            c1["replication"].as_u64()
        ),
        (Some(GIB), Some("hybrid"), Some(2))
    );
    assert_eq!(c1["parentName"], "s");
    api.ok(
        "VolumeCreate",
        json!({"name": "c2", "parent": "s", "size": 2 * GIB}),
    );
    let r = api.post(
        "VolumeCreate",
        json!({"name": "c3", "parent": "s", "size": GIB / 2}),
    );
    assert_eq!(r.err(), "invalidParam");
    let r = api.post(
        "VolumeCreate",
        json!({"name": "c3", "parent": "s", "baseOn": "v"}),
    );
    assert_eq!(r.err(), "invalidParam");
}

#[test]
fn base_on_creates_a_transient_snapshot_collected_with_its_last_child() {
    let (sim, api) = sim();
    create(&api, "src", GIB);
    let c = api.ok("VolumeCreate", json!({"name": "clone", "baseOn": "src"}));
    let auto = c["autoName"].as_str().unwrap().to_owned();
    assert!(auto.starts_with("src@"), "{auto}");
    let snap = &api.read(&format!("Snapshot/{auto}"))[0];
    assert_eq!(snap["transient"], true);
    assert_eq!(snap["autoName"], true);
    assert_eq!(api.read("Volume/clone")[0]["parentName"], auto.as_str());
    assert_eq!(api.read("Volume/src")[0]["parentName"], auto.as_str());
    // Transient snapshots cannot be attached.
    let r = api.post("VolumesReassign", json!([{"snapshot": auto, "ro": [1]}]));
    assert_eq!(r.err(), "invalidParam");
    api.ok("VolumeDelete/clone", json!({}));
    assert!(
        sim.state().snapshot(&auto).is_some(),
        "src is still a child"
    );
    api.ok("VolumeDelete/src", json!({}));
    assert!(
        sim.state().snapshots.is_empty(),
        "{:?}",
        sim.state().snapshots
    );
}

#[test]
fn bound_snapshots_are_collected_when_childless() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    api.ok("VolumeSnapshot/v", json!({"name": "b", "bind": true}));
    api.ok("VolumeSnapshot/v", json!({"name": "keep"}));
    api.ok("VolumeDelete/v", json!({}));
    let st = sim.state();
    assert!(st.snapshot("keep").is_some());
    // `b` still has `keep` as a child.
    assert!(st.snapshot("b").is_some());
    api.ok("SnapshotDelete/keep", json!({}));
    assert!(sim.state().snapshots.is_empty());
}

#[test]
fn cinder_transient_tag_makes_the_clone_snapshot_collectable() {
    let (sim, api) = sim();
    create(&api, "src", GIB);
    api.ok(
        "VolumeSnapshot/src",
        json!({"name": "os--clone--none--snapshot-1"}),
    );
    api.ok(
        "VolumeCreate",
        json!({"name": "new", "size": GIB, "parent": "os--clone--none--snapshot-1"}),
    );
    api.ok(
        "SnapshotUpdate/os--clone--none--snapshot-1",
        json!({"tags": {"transient": "1.0"}}),
    );
    api.ok("VolumeDelete/new", json!({}));
    assert!(
        sim.state()
            .snapshot("os--clone--none--snapshot-1")
            .is_some(),
        "src is a child"
    );
    api.ok("VolumeDelete/src", json!({}));
    assert!(sim.state().snapshots.is_empty());
}

#[test]
fn snapshot_delete_with_children_merges_or_waits() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    api.ok("VolumeSnapshot/v", json!({"name": "base"}));
    api.ok("VolumeSnapshot/v", json!({"name": "mid"}));
    // One child (v): merged away, v re-parented onto base.
    api.ok("SnapshotDelete/mid", json!({}));
    assert_eq!(api.read("Volume/v")[0]["parentName"], "base");
    assert_eq!(api.get("Snapshot/mid").err(), "objectDoesNotExist");
    // Two children: pending deletion, shown as `*base`.
    api.ok("VolumeCreate", json!({"name": "c", "parent": "base"}));
    api.ok("SnapshotDelete/base", json!({}));
    assert_eq!(api.get("Snapshot/base").err(), "objectDoesNotExist");
    let list = api.read("SnapshotsList");
    assert_eq!(list[0]["name"], "*base");
    assert_eq!(list[0]["deleted"], true);
    assert_eq!(list[0]["deleteBlocked"], "multiple children");
    assert_eq!(api.read("Volume/c")[0]["parentName"], "*base");
    // The name is free again.
    create(&api, "base", 512);
    api.ok("VolumeDelete/base", json!({}));
    api.ok("VolumeDelete/c", json!({}));
    // Down to one child (v): the deletion completes.
    let st = sim.state();
    assert!(st.snapshot("*base").is_none(), "{:?}", st.snapshots);
    assert_eq!(st.volume("v").unwrap().parent, None);
}

#[test]
fn rename_resize_and_shrink_rules() {
    let (_sim, api) = sim();
    create(&api, "v", GIB);
    create(&api, "w", GIB);
    assert_eq!(
        api.post("VolumeUpdate/v", json!({"rename": "w"})).err(),
        "objectExists"
    );
    api.ok("VolumeUpdate/v", json!({"rename": "v2"}));
    assert_eq!(api.get("Volume/v").err(), "objectDoesNotExist");
    api.ok("VolumeUpdate/v2", json!({"size": 2 * GIB}));
    api.ok("VolumeUpdate/v2", json!({"sizeAdd": GIB}));
    assert_eq!(api.read("Volume/v2")[0]["size"], 3 * GIB);
    let r = api.post("VolumeUpdate/v2", json!({"size": GIB}));
    assert_eq!(r.err(), "invalidParam");
    assert!(r.descr().contains("shrinkOk"), "{r:?}");
    api.ok("VolumeUpdate/v2", json!({"size": GIB, "shrinkOk": true}));
    assert_eq!(
        api.post("VolumeUpdate/v2", json!({"size": GIB, "sizeAdd": 512}))
            .err(),
        "invalidParam"
    );
    assert_eq!(
        api.post("VolumeUpdate/nope", json!({"size": GIB})).err(),
        "objectDoesNotExist"
    );
    assert_eq!(
        api.post("VolumeUpdate/v2", json!({"size": 1u64 << 50}))
            .err(),
        "insufficientResources"
    );
    // Tags merge; an empty value removes.
    api.ok("VolumeUpdate/v2", json!({"tags": {"a": "1", "qc": "x"}}));
    api.ok("VolumeUpdate/v2", json!({"tags": {"qc": ""}}));
    assert_eq!(api.read("Volume/v2")[0]["tags"], json!({"a": "1"}));
    api.ok("VolumeUpdate/v2", json!({"bw": 100, "iops": "-"}));
    let v = &api.read("Volume/v2")[0];
    assert_eq!(
        (v["bw"].as_u64(), v["iops"].as_str()),
        (Some(100), Some("-"))
    );
}

#[test]
fn revert_needs_an_ancestor_and_a_detached_volume() {
    let (_sim, api) = sim();
    create(&api, "v", GIB);
    api.ok("VolumeSnapshot/v", json!({"name": "s1"}));
    api.ok("VolumeUpdate/v", json!({"size": 2 * GIB}));
    api.ok("VolumeSnapshot/v", json!({"name": "s2"}));
    create(&api, "other", GIB);
    api.ok("VolumeSnapshot/other", json!({"name": "os"}));
    assert_eq!(
        api.post("VolumeRevert/v", json!({"toSnapshot": "os"}))
            .err(),
        "invalidParam"
    );
    assert_eq!(
        api.post("VolumeRevert/v", json!({"toSnapshot": "nope"}))
            .err(),
        "objectDoesNotExist"
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    assert_eq!(
        api.post("VolumeRevert/v", json!({"toSnapshot": "s1"}))
            .err(),
        "busy"
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "detach": "all"}]));
    api.ok("VolumeRevert/v", json!({"toSnapshot": "s1"}));
    let v = &api.read("Volume/v")[0];
    assert_eq!(v["parentName"], "s1");
    assert_eq!(
        v["size"],
        2 * GIB,
        "without revertSize the larger size stays"
    );
    api.ok(
        "VolumeRevert/v",
        json!({"toSnapshot": "s1", "revertSize": true}),
    );
    assert_eq!(api.read("Volume/v")[0]["size"], GIB);
}

#[test]
fn templates_give_volumes_replication_and_placement() {
    let (sim, api) = sim();
    api.ok(
        "PlacementGroupUpdate/ssd",
        json!({"addDisks": ["101", 201, 301]}),
    );
    api.ok(
        "VolumeTemplateCreate",
        json!({"name": "fast", "replication": 3, "placeAll": "ssd", "iops": 1000}),
    );
    assert_eq!(
        api.post("VolumeTemplateCreate", json!({"name": "fast"}))
            .err(),
        "objectExists"
    );
    assert_eq!(
        api.post(
            "VolumeTemplateCreate",
            json!({"name": "x", "placeAll": "nope"})
        )
        .err(),
        "objectDoesNotExist"
    );
    assert_eq!(
        api.post("VolumeTemplateCreate", json!({"name": "a.b"}))
            .err(),
        "invalidParam"
    );
    let list = api.read("VolumeTemplatesList");
    let t = &list[0];
    assert_eq!(
        keys(t),
        vec![
            "bw",
            "id",
            "iops",
            "limitType",
            "name",
            "parentName",
            "placeAll",
            "placeHead",
            "placeTail",
            "replication",
            "reuseServer",
            "size"
        ]
    );
    assert_eq!(t["size"], "-");
    assert_eq!(t["placeTail"], "ssd");
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "template": "fast"}),
    );
    let v = &api.read("Volume/v")[0];
    assert_eq!(
        (
            v["placeAll"].as_str(),
            v["iops"].as_u64(),
            v["templateName"].as_str()
        ),
        (Some("ssd"), Some(1000), Some("fast"))
    );
    // Explicit values override the template.
    api.ok(
        "VolumeCreate",
        json!({"name": "w", "size": GIB, "template": "fast", "replication": 2}),
    );
    assert_eq!(api.read("Volume/w")[0]["replication"], 2);
    // Update with propagate pushes the change to users.
    api.ok(
        "VolumeTemplateUpdate/fast",
        json!({"iops": 5, "propagate": true}),
    );
    assert_eq!(api.read("Volume/v")[0]["iops"], 5);
    // Retype.
    api.ok(
        "VolumeTemplateCreate",
        json!({"name": "slow", "replication": 2}),
    );
    api.ok("VolumeUpdate/v", json!({"template": "slow"}));
    let v = &api.read("Volume/v")[0];
    assert_eq!(
        (
            v["templateName"].as_str(),
            v["replication"].as_u64(),
            v["placeAll"].as_str()
        ),
        (Some("slow"), Some(2), Some("default"))
    );
    // In use: busy.
    assert_eq!(
        api.post("VolumeTemplateDelete/slow", json!({})).err(),
        "busy"
    );
    api.ok("VolumeDelete/v", json!({}));
    api.ok("VolumeTemplateDelete/slow", json!({}));
    assert_eq!(
        api.get("VolumeTemplateDescribe/slow").err(),
        "objectDoesNotExist"
    );
    assert!(sim.state().template("fast").is_some());
    // Placement group in use.
    assert_eq!(
        api.post("PlacementGroupDelete/ssd", json!({})).err(),
        "busy"
    );
}

#[test]
fn template_status_counts_follow_the_volumes() {
    let (sim, api) = sim();
    sim.seed_template("t", Some(3), None).unwrap();
    sim.seed_volume("a", GIB, Some("t")).unwrap();
    sim.seed_volume("b", 2 * GIB, Some("t")).unwrap();
    api.ok("VolumeSnapshot/a", json!({"name": "s"}));
    let st = &api.read("VolumeTemplatesStatus")[0];
    assert_eq!(st["volumesCount"], 2);
    assert_eq!(st["snapshotsCount"], 1);
    assert_eq!(st["size"], 3 * GIB);
    assert_eq!(st["totalSize"], 9 * GIB);
    assert!(st["stored"]["capacity"].as_u64().unwrap() > 0);
    assert!(st["stored"]["free"].as_u64().unwrap() <= st["stored"]["capacity"].as_u64().unwrap());
}

#[test]
fn group_snapshots_are_all_or_nothing() {
    let (sim, api) = sim();
    create(&api, "a", GIB);
    create(&api, "b", GIB);
    let r = api.post(
        "VolumesGroupSnapshot",
        json!({"volumes": [{"volume": "a", "name": "ga"}, {"volume": "nope"}]}),
    );
    assert_eq!(r.err(), "objectDoesNotExist");
    assert!(sim.state().snapshots.is_empty());
    let d = api.ok("VolumesGroupSnapshot", json!({"volumes": [{"volume": "a", "name": "ga"}, {"volume": "b", "tags": {"x": "1"}}], "tags": {"cg": "1"}}));
    assert_eq!(d["ok"], true);
    let snaps = d["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps[0]["snapshot"], "ga");
    assert_eq!(snaps[0]["remoteId"], snaps[0]["snapshotGlobalId"]);
    assert_eq!(api.read("Snapshot/ga")[0]["tags"], json!({"cg": "1"}));
    let bname = snaps[1]["snapshot"].as_str().unwrap();
    assert_eq!(
        api.read(&format!("Snapshot/{bname}"))[0]["tags"],
        json!({"cg": "1", "x": "1"})
    );
}

#[test]
fn delete_after_removes_the_snapshot_when_the_clock_passes_it() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    api.ok(
        "VolumeSnapshot/v",
        json!({"name": "tmp", "deleteAfter": 3600}),
    );
    let s = &api.read("Snapshot/tmp")[0];
    assert!(s["targetDeleteDate"].as_i64().unwrap() > 0);
    let r = api.post(
        "VolumeSnapshot/v",
        json!({"name": "past", "targetDeleteDate": 1}),
    );
    assert_eq!(r.err(), "invalidParam");
    sim.advance_clock(1800);
    assert!(sim.state().snapshot("tmp").is_some());
    sim.advance_clock(3600);
    assert!(sim.state().snapshot("tmp").is_none());
    assert_eq!(api.read("Volume/v")[0]["parentName"], "");
}

#[test]
fn freeze_turns_a_volume_into_a_snapshot() {
    let (_sim, api) = sim();
    let gid = create(&api, "v", GIB)["globalId"]
        .as_str()
        .unwrap()
        .to_owned();
    api.ok("VolumeFreeze/v", json!({}));
    assert_eq!(api.get("Volume/v").err(), "objectDoesNotExist");
    let s = &api.read("Snapshot/v")[0];
    assert_eq!(s["globalId"], gid.as_str());
}

#[test]
fn status_space_describe_and_info_shapes() {
    let (_sim, api) = sim();
    create(&api, "v", 100 << 20);
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    let st = api.read("VolumesGetStatus");
    assert_eq!(st["v"]["snapshot"], false);
    assert_eq!(st["s"]["snapshot"], true);
    assert_eq!(st["v"]["status"], "up");
    assert!(st["v"]["storedSize"].is_u64() && st["v"]["onDiskSize"].is_u64());
    assert!(
        api.read("VolumesGetStatusQuick")["v"]
            .get("storedSize")
            .is_none()
    );
    let d = api.read("VolumeDescribe/v");
    assert_eq!(d["objects"].as_array().unwrap().len(), 4);
    assert_eq!(d["objects"][0].as_array().unwrap().len(), 3);
    let i = api.read("VolumeGetInfo/v");
    assert!(i["disksCount"].as_u64().unwrap() >= 3);
    assert!(i["objectsPerDisk"].is_object());
    assert!(api.read("VolumesSpace")[0]["spaceUsed"].is_u64());
    assert!(api.read("SnapshotsSpace")[0]["storedSize"].is_u64());
    let both = api.read("VolumesAndSnapshotsList");
    assert_eq!(both["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(both["snapshots"].as_array().unwrap().len(), 1);
    let multi = api.get("MultiCluster/VolumesAndSnapshotsList");
    assert_eq!(multi.err(), "invalidParam");
    api.read("SnapshotDescribe/s");
    api.read("SnapshotGetInfo/s");
}

#[test]
fn disks_services_and_clients() {
    let (_sim, api) = sim();
    let disks = api.read("DisksList");
    assert_eq!(disks.as_object().unwrap().len(), 12);
    let d = &disks["101"];
    assert_eq!(d["generationLeft"], -1);
    assert_eq!(
        d["agAllocated"].as_u64().unwrap() + d["agFree"].as_u64().unwrap(),
        d["agCount"].as_u64().unwrap()
    );
    assert_eq!(api.read("ServerDisksList/2").as_object().unwrap().len(), 4);
    api.ok("DiskEject/101", json!({}));
    let d = &api.read("DisksList")["101"];
    assert!(d["generationLeft"].as_i64().unwrap() >= 0);
    assert!(d.get("agCount").is_none());
    let s = api.read("ServicesList");
    assert_eq!(s["clusterStatus"], "running");
    assert_eq!(s["servers"].as_object().unwrap().len(), 3);
    assert!(s["clients"]["1"]["status"] == "running");
    let c = api.read("ClientsConfigDump");
    assert_eq!(c[0]["configStatus"], "ok");
    assert_eq!(api.read("ClientConfigWait/1")[0]["id"], 1);
    let pgs = api.read("PlacementGroupsList");
    assert_eq!(pgs["default"]["disks"].as_array().unwrap().len(), 12);
}

#[test]
fn rebase_and_delete_by_global_id() {
    let (sim, api) = sim();
    create(&api, "v", GIB);
    api.ok("VolumeSnapshot/v", json!({"name": "s1"}));
    let s2 = api.ok("VolumeSnapshot/v", json!({"name": "s2"}));
    create(&api, "other", GIB);
    api.ok("VolumeSnapshot/other", json!({"name": "o1"}));
    assert_eq!(
        api.post("VolumeRebase/v", json!({"parentName": "o1"}))
            .err(),
        "invalidParam"
    );
    api.ok("VolumeRebase/v", json!({"parentName": "s1"}));
    assert_eq!(api.read("Volume/v")[0]["parentName"], "s1");
    api.ok("SnapshotRebase/s2", json!({}));
    assert_eq!(api.read("Snapshot/s2")[0]["parentName"], "");
    let gid = s2["snapshotGlobalId"].as_str().unwrap();
    assert_eq!(
        api.post(&format!("SnapshotDeleteById/~{gid}"), json!({}))
            .err(),
        "invalidParam"
    );
    api.ok(&format!("SnapshotDeleteById/{gid}"), json!({}));
    assert!(sim.state().snapshot("s2").is_none());
    assert_eq!(
        api.post(&format!("SnapshotDeleteById/{gid}"), json!({}))
            .err(),
        "objectDoesNotExist"
    );
}

#[test]
fn template_parent_and_size_apply_to_new_volumes() {
    let (_sim, api) = sim();
    create(&api, "base", GIB);
    api.ok("VolumeSnapshot/base", json!({"name": "golden"}));
    api.ok(
        "VolumeTemplateCreate",
        json!({"name": "img", "replication": 2, "parent": "golden", "size": 2 * GIB}),
    );
    assert_eq!(
        api.read("VolumeTemplateDescribe/img")["parentName"],
        "golden"
    );
    api.ok("VolumeCreate", json!({"name": "vm1", "template": "img"}));
    let v = &api.read("Volume/vm1")[0];
    assert_eq!(
        (v["parentName"].as_str(), v["size"].as_u64()),
        (Some("golden"), Some(2 * GIB))
    );
}

#[test]
fn placement_groups_can_be_created_renamed_and_deleted() {
    let (_sim, api) = sim();
    api.ok(
        "PlacementGroupUpdate/hdd",
        json!({"addDisks": [102, 202], "rmDisks": []}),
    );
    assert_eq!(
        api.read("PlacementGroupDescribe/hdd")["disks"],
        json!([102, 202])
    );
    assert_eq!(
        api.post("PlacementGroupUpdate/hdd", json!({"addDisks": [999]}))
            .err(),
        "objectDoesNotExist"
    );
    api.ok(
        "PlacementGroupUpdate/hdd",
        json!({"rename": "spinning", "rmDisks": [202]}),
    );
    assert_eq!(
        api.get("PlacementGroupDescribe/hdd").err(),
        "objectDoesNotExist"
    );
    assert_eq!(
        api.read("PlacementGroupDescribe/spinning")["disks"],
        json!([102])
    );
    // One disk cannot hold three replicas on distinct servers.
    let r = api.post(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3, "placeAll": "spinning"}),
    );
    assert_eq!(r.err(), "insufficientResources");
    api.ok("PlacementGroupDelete/spinning", json!({}));
    assert_eq!(
        api.post("PlacementGroupDelete/spinning", json!({})).err(),
        "objectDoesNotExist"
    );
}

#[test]
fn ejected_and_forgotten_disks_leave_the_placement_groups() {
    let (_sim, api) = sim();
    assert_eq!(api.post("DiskForget/101", json!({})).err(), "busy");
    api.ok("DiskEject/101", json!({}));
    api.ok("DiskForget/101", json!({}));
    assert!(api.read("DisksList").get("101").is_none());
    assert_eq!(
        api.read("PlacementGroupDescribe/default")["disks"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
}

/// A simulator on `servers` servers of one disk of `disk_size` bytes each.
fn small_cluster(servers: u32, disk_size: u64) -> (Sim, Api) {
    let sim = Sim::builder()
        .layout(ClusterLayout {
            servers,
            disks_per_server: 1,
            disk_size,
            ..ClusterLayout::default()
        })
        .start()
        .unwrap();
    let api = Api::new(&sim);
    (sim, api)
}

#[test]
fn volume_sizes_are_checked_against_the_capacity_the_cluster_reports() {
    // 1.25 GiB disks hold two allocation groups of 512 MiB each: DisksList reports 1 GiB.
    let (_sim, api) = small_cluster(3, GIB + GIB / 4);
    let reported: u64 = api
        .read("DisksList")
        .as_object()
        .unwrap()
        .values()
        .map(|d| d["agCount"].as_u64().unwrap() * (512 << 20))
        .sum();
    assert_eq!(reported, 3 * GIB);
    let volume = |name: &str, size: u64| {
        api.post(
            "VolumeCreate",
            json!({"name": name, "size": size, "replication": 1}),
        )
    };
    volume("fits", reported).data();
    let r = volume("beyond", reported + 512);
    assert_eq!(r.err(), "insufficientResources", "{r:?}");
    assert!(r.descr().contains("does not fit"), "{r:?}");
}

#[test]
fn thin_provisioning_lets_volumes_outgrow_the_free_space_and_keeps_them_usable() {
    let (sim, api) = small_cluster(4, 4 * GIB);
    // Each volume alone fits (3 replicas of 5 GiB in 4 x 4 GiB); together they are ten times
    // what the cluster holds.
    for i in 0..10 {
        create(&api, &format!("v{i}"), 5 * GIB);
    }
    // A disk fails: 3 x 5 GiB no longer fit in 3 x 4 GiB, but changes that ask for no more
    // room work.
    api.ok("DiskEject/101", json!({}));
    api.ok("VolumeUpdate/v0", json!({"rename": "renamed"}));
    api.ok("VolumeUpdate/v1", json!({"tags": {"k": "v"}, "bw": 100}));
    api.ok("VolumeSnapshot/v2", json!({"name": "s2"}));
    api.ok(
        "VolumeUpdate/v3",
        json!({"size": 2 * GIB, "shrinkOk": true}),
    );
    // Asking for more room than the cluster has left still fails.
    let r = api.post("VolumeUpdate/v4", json!({"sizeAdd": GIB}));
    assert_eq!(r.err(), "insufficientResources", "{r:?}");
    assert_eq!(sim.state().volumes.len(), 10);
}

/// `Volume/NAME` and `Snapshot/NAME` answer with the very text of the object's entry in
/// `VolumesList` / `SnapshotsList`: the same members, values and member order.
#[test]
fn one_object_reads_as_its_entry_in_the_listing() {
    let (_sim, api) = sim();
    api.ok(
        "VolumeTemplateCreate",
        json!({"name": "hybrid", "replication": 2}),
    );
    create(&api, "plain", GIB);
    api.ok(
        "VolumeCreate",
        json!({"name": "tagged", "size": 2 * GIB, "template": "hybrid",
               "tags": {"cinder": "yes", "os.az": "nova-1:b"}, "iops": 100}),
    );
    api.ok(
        "VolumeSnapshot/tagged",
        json!({"name": "snap", "deleteAfter": 3600}),
    );
    api.ok("VolumeCreate", json!({"name": "clone", "parent": "snap"}));
    for (list, one, names) in [
        ("VolumesList", "Volume", &["plain", "tagged", "clone"][..]),
        ("SnapshotsList", "Snapshot", &["snap"][..]),
    ] {
        let listing = api.get(list);
        let entries = listing.data().as_array().unwrap();
        for name in names {
            let answer = api.get(&format!("{one}/{name}"));
            let data = answer.data().as_array().unwrap();
            assert_eq!(data.len(), 1, "{one}/{name}");
            let entry = entries.iter().find(|e| e["name"] == *name).unwrap();
            assert_eq!(&data[0], entry, "{one}/{name}");
            let text = answer
                .body
                .split_once(r#""data":["#)
                .and_then(|(_, rest)| rest.strip_suffix("]}"))
                .unwrap_or_else(|| panic!("{one}/{name}: {}", answer.body));
            assert!(
                listing.body.contains(text),
                "{one}/{name} differs from its {list} entry: {text}"
            );
        }
    }
}
