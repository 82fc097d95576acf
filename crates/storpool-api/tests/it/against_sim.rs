//! Contract test between the two independent wire implementations: every call this client
//! models, driven against an in-process `storpool-sim`, with and without `MultiCluster/`.
//!
//! A small recording proxy sits between the client and the simulator, so the typed methods
//! run exactly as in production while every answer is kept. Each recorded `data` member is
//! then decoded again with the client's model for that call, strictly: a member the model
//! does not know is reported (the model lacks a field the spec lists, or the simulator sends
//! something it should not).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use storpool_api::Method;
use storpool_api::{
    ApiOk, Attachment, Client, ClientConfigStatus, ClientId, ClusterStatus, Detach,
    DiskDescription, DiskId, DiskSummary, GlobalId, GroupSnapshot, GroupSnapshotCreated,
    GroupSnapshotVolume, Limit, McMode, OnAttached, PlacementGroup, PlacementGroupName,
    PlacementGroupUpdate, ReassignEntry, ReassignWait, Rebase, RetryPolicy, Rights, ServerId,
    SnapshotCreate, SnapshotCreated, SnapshotDescription, SnapshotInfo, SnapshotName,
    SnapshotReassign, SnapshotRef, SnapshotSpace, SnapshotSummary, SnapshotUpdate, Tags, Template,
    TemplateCreate, TemplateName, TemplateStatus, TemplateUpdate, VolumeCreate, VolumeCreated,
    VolumeDelete, VolumeDescription, VolumeFreeze, VolumeInfo, VolumeName, VolumeReassign,
    VolumeRef, VolumeRevert, VolumeSpace, VolumeStatus, VolumeSummary, VolumeUpdate,
};
use storpool_sim::Sim;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request and the simulator's answer, as seen by the proxy.
#[derive(Clone, Debug)]
struct Exchange {
    method: String,
    /// The part after `/ctrl/1.0/`, without a query.
    path: String,
    status: u16,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Exchange>>>;

/// A proxy on `127.0.0.1:0` that forwards each request to `upstream` and records the answer.
async fn recording_proxy(upstream: SocketAddr) -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let recorded = log.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(forward(conn, upstream, recorded.clone()));
        }
    });
    (addr, log)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1 request (head and `Content-Length` body).
async fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf)
}

async fn forward(mut conn: TcpStream, upstream: SocketAddr, log: Log) {
    // The simulator closes every connection after its answer, so one request per connection.
    let Some(request) = read_request(&mut conn).await else {
        return;
    };
    let line = String::from_utf8_lossy(&request[..find(&request, b"\r\n").unwrap()]).into_owned();
    let mut parts = line.split(' ');
    let method = parts.next().unwrap().to_owned();
    let target = parts.next().unwrap();
    let path = target
        .split('?')
        .next()
        .unwrap()
        .trim_start_matches("/ctrl/1.0/")
        .to_owned();
    let mut sim = TcpStream::connect(upstream).await.unwrap();
    sim.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    sim.read_to_end(&mut response).await.unwrap();
    let head_end = find(&response, b"\r\n\r\n").unwrap() + 4;
    let status = String::from_utf8_lossy(&response[..head_end])
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    log.lock().unwrap().push(Exchange {
        method,
        path,
        status,
        body: response[head_end..].to_vec(),
    });
    conn.write_all(&response).await.unwrap();
    conn.shutdown().await.ok();
}

/// The call name of a path: `[RemoteCommand/C/][MultiCluster/]CALL[/ARGS]`.
fn call_of(path: &str) -> (&str, bool) {
    let path = match path.strip_prefix("RemoteCommand/") {
        Some(rest) => rest.split_once('/').map_or(rest, |(_, p)| p),
        None => path,
    };
    let (path, mc) = match path.strip_prefix("MultiCluster/") {
        Some(rest) => (rest, true),
        None => (path, false),
    };
    (path.split('/').next().unwrap_or(path), mc)
}

/// Decodes `data` as `T`, collecting the members `T` does not know (`+path`), and the members
/// `T` always has that the answer lacks (`-path`: the model fills them with a default).
fn strict<T: DeserializeOwned + Serialize>(
    data: &Value,
    unknown: &mut BTreeSet<String>,
) -> Result<(), String> {
    let decoded: T = serde_ignored::deserialize(data, |path| {
        unknown.insert(format!("+{path}"));
    })
    .map_err(|err| err.to_string())?;
    let model = serde_json::to_value(&decoded).map_err(|err| err.to_string())?;
    absent_members(data, &model, "", unknown);
    Ok(())
}

/// Members of `model` (the decoded answer written back) that `sent` does not have.
fn absent_members(sent: &Value, model: &Value, at: &str, out: &mut BTreeSet<String>) {
    match (sent, model) {
        (Value::Object(sent), Value::Object(model)) => {
            for (key, value) in model {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match sent.get(key) {
                    Some(inner) => absent_members(inner, value, &path, out),
                    None => {
                        out.insert(format!("-{path}"));
                    }
                }
            }
        }
        (Value::Array(sent), Value::Array(model)) => {
            for (inner, value) in sent.iter().zip(model) {
                absent_members(inner, value, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

/// Decodes a recorded answer with the model the client uses for `call`.
fn decode(method: &str, call: &str, data: &Value) -> Result<BTreeSet<String>, String> {
    let mut unknown = BTreeSet::new();
    let u = &mut unknown;
    match (method, call) {
        ("GET", "VolumesList" | "Volume") => strict::<Vec<VolumeSummary>>(data, u),
        ("GET", "VolumeDescribe") => strict::<VolumeDescription>(data, u),
        ("GET", "VolumeGetInfo") => strict::<VolumeInfo>(data, u),
        ("GET", "VolumeListSnapshots" | "SnapshotsList" | "Snapshot") => {
            strict::<Vec<SnapshotSummary>>(data, u)
        }
        ("GET", "VolumesGetStatus" | "VolumesGetStatusQuick") => {
            strict::<BTreeMap<String, VolumeStatus>>(data, u)
        }
        ("GET", "VolumesSpace") => strict::<Vec<VolumeSpace>>(data, u),
        ("GET", "SnapshotDescribe") => strict::<SnapshotDescription>(data, u),
        ("GET", "SnapshotGetInfo") => strict::<SnapshotInfo>(data, u),
        ("GET", "SnapshotsSpace") => strict::<Vec<SnapshotSpace>>(data, u),
        ("GET", "AttachmentsList") => strict::<Vec<Attachment>>(data, u),
        ("GET", "VolumeTemplatesList") => strict::<Vec<Template>>(data, u),
        ("GET", "VolumeTemplatesStatus") => strict::<Vec<TemplateStatus>>(data, u),
        ("GET", "VolumeTemplateDescribe") => strict::<Template>(data, u),
        ("GET", "DisksList" | "ServerDisksList") => strict::<BTreeMap<u32, DiskSummary>>(data, u),
        ("GET", "DiskDescribe") => strict::<DiskDescription>(data, u),
        ("GET", "PlacementGroupsList") => strict::<BTreeMap<String, PlacementGroup>>(data, u),
        ("GET", "PlacementGroupDescribe") => strict::<PlacementGroup>(data, u),
        ("GET", "ServicesList" | "ServersList") => strict::<ClusterStatus>(data, u),
        ("GET", "ClientsConfigDump" | "ClientConfigWait") => {
            strict::<Vec<ClientConfigStatus>>(data, u)
        }
        ("POST", "VolumeCreate") => strict::<VolumeCreated>(data, u),
        ("POST", "VolumeSnapshot") => strict::<SnapshotCreated>(data, u),
        ("POST", "VolumesGroupSnapshot") => strict::<GroupSnapshotCreated>(data, u),
        ("POST", _) => strict::<ApiOk>(data, u),
        _ => Err(format!("no model for {method} {call}")),
    }?;
    Ok(unknown)
}

/// Every call the client models, as `(method, call)`.
const MODELLED: &[(&str, &str)] = &[
    ("GET", "VolumesList"),
    ("GET", "Volume"),
    ("GET", "VolumeDescribe"),
    ("GET", "VolumeGetInfo"),
    ("GET", "VolumeListSnapshots"),
    ("GET", "VolumesGetStatus"),
    ("GET", "VolumesGetStatusQuick"),
    ("GET", "VolumesSpace"),
    ("POST", "VolumeCreate"),
    ("POST", "VolumeUpdate"),
    ("POST", "VolumeFreeze"),
    ("POST", "VolumeRevert"),
    ("POST", "VolumeRebase"),
    ("POST", "VolumeDelete"),
    ("GET", "SnapshotsList"),
    ("GET", "Snapshot"),
    ("GET", "SnapshotDescribe"),
    ("GET", "SnapshotGetInfo"),
    ("GET", "SnapshotsSpace"),
    ("POST", "VolumeSnapshot"),
    ("POST", "VolumesGroupSnapshot"),
    ("POST", "SnapshotUpdate"),
    ("POST", "SnapshotRebase"),
    ("POST", "SnapshotDelete"),
    ("POST", "SnapshotDeleteById"),
    ("GET", "AttachmentsList"),
    ("POST", "VolumesReassign"),
    ("POST", "VolumesReassignWait"),
    ("GET", "VolumeTemplatesList"),
    ("GET", "VolumeTemplatesStatus"),
    ("GET", "VolumeTemplateDescribe"),
    ("POST", "VolumeTemplateCreate"),
    ("POST", "VolumeTemplateUpdate"),
    ("POST", "VolumeTemplateDelete"),
    ("GET", "DisksList"),
    ("GET", "ServerDisksList"),
    ("GET", "DiskDescribe"),
    ("GET", "PlacementGroupsList"),
    ("GET", "PlacementGroupDescribe"),
    ("POST", "PlacementGroupUpdate"),
    ("POST", "PlacementGroupDelete"),
    ("GET", "ServicesList"),
    ("GET", "ServersList"),
    ("GET", "ClientsConfigDump"),
    ("GET", "ClientConfigWait"),
];

/// The calls that have a `MultiCluster/` form (spec appendix A).
const MULTI_CLUSTER: &[&str] = &[
    "VolumesList",
    "Volume",
    "VolumeDescribe",
    "VolumeGetInfo",
    "VolumesGetStatus",
    "VolumesGetStatusQuick",
    "VolumesSpace",
    "VolumeCreate",
    "VolumeUpdate",
    "VolumeFreeze",
    "VolumeRevert",
    "VolumeDelete",
    "SnapshotsList",
    "SnapshotsSpace",
    "Snapshot",
    "SnapshotDescribe",
    "SnapshotGetInfo",
    "VolumeSnapshot",
    "SnapshotDelete",
    "VolumesGroupSnapshot",
    "AttachmentsList",
    "VolumesReassign",
    "VolumesReassignWait",
];

fn vname(name: &str) -> VolumeName {
    VolumeName::new(name).unwrap()
}

fn vref(name: &str) -> VolumeRef {
    VolumeRef::new(name).unwrap()
}

fn sname(name: &str) -> SnapshotName {
    SnapshotName::new(name).unwrap()
}

fn sref(name: &str) -> SnapshotRef {
    SnapshotRef::new(name).unwrap()
}

fn tname(name: &str) -> TemplateName {
    TemplateName::new(name).unwrap()
}

fn client(id: u64) -> ClientId {
    ClientId::new(id).unwrap()
}

const GIB: u64 = 1 << 30;

/// Runs every modelled call once (most of them several times, in different situations).
async fn drive_every_call(api: &Client) {
    // Templates.
    api.templates()
        .create(&TemplateCreate {
            replication: Some(2),
            place_all: Some(PlacementGroupName::new("default").unwrap()),
            iops: Some(Limit::Value(1000)),
            tags: Some([("tier".to_owned(), "fast".to_owned())].into()),
            ..TemplateCreate::new(tname("fast"))
        })
        .await
        .unwrap();
    api.templates()
        .create(&TemplateCreate::new(tname("doomed")))
        .await
        .unwrap();
    let templates = api.templates().list().await.unwrap();
    assert_eq!(templates.len(), 2);
    let fast = api.templates().describe(&tname("fast")).await.unwrap();
    assert_eq!(fast.replication.value(), Some(2));
    assert_eq!(fast.iops, Limit::Value(1000));
    api.templates()
        .update(
            &tname("fast"),
            &TemplateUpdate {
                bw: Some(Limit::Value(200)),
                propagate: Some(true),
                ..TemplateUpdate::default()
            },
        )
        .await
        .unwrap();
    api.templates().delete(&tname("doomed")).await.unwrap();

    // Placement groups, disks, services, clients.
    let groups = api.placement_groups().list().await.unwrap();
    assert!(groups.contains_key("default"));
    let pg = PlacementGroupName::new("extra").unwrap();
    api.placement_groups()
        .update(
            &pg,
            &PlacementGroupUpdate {
                add_disks: vec![DiskId::new(101).unwrap(), DiskId::new(201).unwrap()],
                ..PlacementGroupUpdate::default()
            },
        )
        .await
        .unwrap();
    let described = api.placement_groups().describe(&pg).await.unwrap();
    assert_eq!(described.disks, [101, 201]);
    api.placement_groups().delete(&pg).await.unwrap();
    let disks = api.disks().list().await.unwrap();
    assert_eq!(disks.len(), 12);
    assert!(disks.values().all(DiskSummary::is_up));
    let on_one = api
        .disks()
        .list_on_server(ServerId::new(1).unwrap())
        .await
        .unwrap();
    assert_eq!(on_one.len(), 4);
    let disk = api
        .disks()
        .describe(DiskId::new(101).unwrap())
        .await
        .unwrap();
    assert_eq!(disk.id, 101);
    assert!(api.services().list().await.unwrap().is_running());
    api.services().servers().await.unwrap();
    assert!(!api.clients().config_dump().await.unwrap().is_empty());
    api.clients().config_wait(client(1)).await.unwrap();

    // Volumes.
    let created = api
        .volumes()
        .create(&VolumeCreate {
            name: Some(vname("v1")),
            size: Some(GIB),
            replication: Some(3),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert!(created.global_id.is_some());
    api.volumes()
        .create(&VolumeCreate {
            name: Some(vname("v2")),
            size: Some(2 * GIB),
            template: Some(tname("fast")),
            tags: Some([("qc".to_owned(), "tier1".to_owned())].into()),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    let unnamed = api
        .volumes()
        .create(&VolumeCreate {
            size: Some(GIB),
            replication: Some(1),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert!(unnamed.name.as_deref().is_some_and(|n| n.starts_with('~')));
    let clone = api
        .volumes()
        .create(&VolumeCreate {
            name: Some(vname("v2-clone")),
            base_on: Some(vref("v2")),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert!(clone.auto_name.is_some());
    assert_eq!(api.volumes().list().await.unwrap().len(), 4);
    let v2 = api.volumes().get(&vref("v2")).await.unwrap();
    assert_eq!(v2.template_name, "fast");
    let status = api.templates().status().await.unwrap();
    let fast = status.iter().find(|t| t.name == "fast").unwrap();
    assert_eq!(fast.volumes_count, 2);
    api.volumes().describe(&vref("v2")).await.unwrap();
    api.volumes().info(&vref("v2")).await.unwrap();
    api.volumes().status().await.unwrap();
    api.volumes().status_quick().await.unwrap();
    api.volumes().space().await.unwrap();
    api.volumes()
        .update(
            &vref("v1"),
            &VolumeUpdate {
                size: Some(2 * GIB),
                iops: Some(Limit::Value(500)),
                tags: Some([("qc".to_owned(), "x".to_owned())].into()),
                ..VolumeUpdate::default()
            },
        )
        .await
        .unwrap();

    // Snapshots.
    let snap = api
        .snapshots()
        .create(&vref("v1"), &SnapshotCreate::named(sname("s1")))
        .await
        .unwrap();
    assert!(snap.snapshot_global_id.is_some());
    let anonymous = api
        .snapshots()
        .create(
            &vref("v1"),
            &SnapshotCreate {
                bind: Some(false),
                tags: Some([("k".to_owned(), "v".to_owned())].into()),
                ..SnapshotCreate::default()
            },
        )
        .await
        .unwrap();
    let anonymous_name = anonymous.auto_name.unwrap();
    let chain = api.volumes().list_snapshots(&vref("v1")).await.unwrap();
    assert_eq!(chain.len(), 2);
    api.snapshots().list().await.unwrap();
    let s1 = api.snapshots().get(&sref("s1")).await.unwrap();
    assert_eq!(s1.size, 2 * GIB);
    api.snapshots().describe(&sref("s1")).await.unwrap();
    api.snapshots().info(&sref("s1")).await.unwrap();
    api.snapshots().space().await.unwrap();
    api.snapshots()
        .update(
            &sref("s1"),
            &SnapshotUpdate {
                template: Some(tname("fast")),
                tags: Some([("transient".to_owned(), "1.0".to_owned())].into()),
                ..SnapshotUpdate::default()
            },
        )
        .await
        .unwrap();
    let group = api
        .snapshots()
        .create_group(&GroupSnapshot {
            volumes: vec![
                GroupSnapshotVolume::new(vref("v1"), Some(sname("g-v1"))),
                GroupSnapshotVolume::new(vref("v2"), Some(sname("g-v2"))),
            ],
            tags: Some([("cg".to_owned(), "g".to_owned())].into()),
        })
        .await
        .unwrap();
    assert_eq!(group.snapshots.len(), 2);
    api.volumes()
        .create(&VolumeCreate {
            name: Some(vname("from-s1")),
            parent: Some(sref("s1")),
            size: Some(3 * GIB),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    api.volumes()
        .revert(
            &vref("v1"),
            &VolumeRevert {
                revert_size: Some(true),
                ..VolumeRevert::to(sref("s1"))
            },
        )
        .await
        .unwrap();
    api.volumes()
        .rebase(&vref("v1"), &Rebase::default())
        .await
        .unwrap();
    api.snapshots()
        .rebase(&sref("g-v2"), &Rebase::default())
        .await
        .unwrap();

    // Attachments.
    api.attachments()
        .reassign(&[
            ReassignEntry::attach_volume(vref("v1"), client(1), Rights::Rw),
            ReassignEntry::attach_snapshot(sref("s1"), client(2)),
        ])
        .await
        .unwrap();
    let attachments = api.attachments().list().await.unwrap();
    assert_eq!(attachments.len(), 2);
    api.attachments()
        .reassign_wait(&ReassignWait {
            reassign: vec![
                ReassignEntry::attach_volume(vref("v2"), client(3), Rights::Ro),
                ReassignEntry::detach_snapshot_everywhere(sref("s1")),
            ],
            attach_timeout: Some(0),
        })
        .await
        .unwrap();

    // Freeze and deletions.
    api.volumes()
        .freeze(&vref("v2-clone"), &VolumeFreeze::default())
        .await
        .unwrap();
    let gid = GlobalId::new(&*api.snapshots().get(&sref("g-v1")).await.unwrap().global_id).unwrap();
    api.snapshots().delete_by_id(&gid).await.unwrap();
    api.snapshots()
        .delete(&sref(&anonymous_name))
        .await
        .unwrap();
    api.volumes()
        .delete_with(
            &vref("v1"),
            &VolumeDelete {
                on_attached: Some(OnAttached::Detach),
            },
        )
        .await
        .unwrap();
    api.attachments()
        .reassign(&[ReassignEntry::detach_volume_everywhere(vref("v2"))])
        .await
        .unwrap();
    api.volumes().delete(&vref("v2")).await.unwrap();
    let err = api.volumes().delete(&vref("v2")).await.unwrap_err();
    assert!(err.is_object_not_found(), "{err}");

    // A snapshot whose deletion waits for one of its two children, one that deletes itself
    // later, and a disk that is down: listings show their special forms.
    api.snapshots()
        .create(&vref("from-s1"), &SnapshotCreate::named(sname("multi")))
        .await
        .unwrap();
    api.volumes()
        .create(&VolumeCreate {
            name: Some(vname("from-multi")),
            parent: Some(sref("multi")),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    api.snapshots().delete(&sref("multi")).await.unwrap();
    api.snapshots()
        .create(
            &vref("from-multi"),
            &SnapshotCreate {
                name: Some(sname("expiring")),
                delete_after: Some(3600),
                ..SnapshotCreate::default()
            },
        )
        .await
        .unwrap();
    let snapshots = api.snapshots().list().await.unwrap();
    let pending = snapshots.iter().find(|s| s.deleted).unwrap();
    assert!(pending.name.starts_with('*'), "{}", pending.name);
    assert_eq!(pending.delete_blocked.as_deref(), Some("multiple children"));
    let expiring = snapshots.iter().find(|s| s.name == "expiring").unwrap();
    assert!(expiring.target_delete_date.is_some_and(|d| d > 0));
    let eject = "DiskEject/304";
    api.raw(Method::POST, eject, None).await.unwrap();
    let disks = api.disks().list().await.unwrap();
    let down = &disks[&304];
    assert!(!down.is_up());
    assert_eq!(down.ag_count, None);

    every_request_member(api).await;

    // Raw calls go through the same path.
    let list = if api.is_multi_cluster() {
        "MultiCluster/VolumesList"
    } else {
        "VolumesList"
    };
    let raw = api.raw(Method::GET, list, None).await.unwrap();
    assert!(raw.as_array().is_some());
    api.raw(
        Method::POST,
        "VolumeTemplateCreate",
        Some(&json!({"name": "raw", "replication": 1})),
    )
    .await
    .unwrap();
}

#[test]
fn the_strict_decoder_reports_unknown_and_absent_members() {
    let mut found = BTreeSet::new();
    strict::<ApiOk>(
        &json!({"ok": true, "generation": 1, "extra": {"x": 1}}),
        &mut found,
    )
    .unwrap();
    assert_eq!(found, BTreeSet::from(["+extra".to_owned()]));
    found.clear();
    strict::<Vec<PlacementGroup>>(&json!([{"name": "default", "disks": []}]), &mut found).unwrap();
    assert_eq!(found, BTreeSet::from(["-[].id".to_owned()]));
}

/// Sends every member of every request type at least once: the simulator rejects members
/// it does not know, so a name the two sides spell differently fails here.
async fn every_request_member(api: &Client) {
    let pg = || Some(PlacementGroupName::new("default").unwrap());
    let tags = || Some(Tags::from([("a".to_owned(), "b".to_owned())]));
    api.templates()
        .create(&TemplateCreate {
            parent: Some(sname("s1")),
            size: Some(GIB),
            place_all: pg(),
            place_tail: pg(),
            place_head: pg(),
            replication: Some(2),
            bw: Some(Limit::Unlimited),
            iops: Some(Limit::Value(10)),
            reuse_server: Some(false),
            tags: tags(),
            ..TemplateCreate::new(tname("full"))
        })
        .await
        .unwrap();
    api.templates()
        .update(
            &tname("full"),
            &TemplateUpdate {
                rename: Some(tname("full2")),
                parent: Some(sname("s1")),
                size: Some(2 * GIB),
                propagate: Some(true),
                place_all: pg(),
                place_tail: pg(),
                place_head: pg(),
                replication: Some(3),
                bw: Some(Limit::Value(5)),
                iops: Some(Limit::Unlimited),
                reuse_server: Some(true),
                tags: tags(),
            },
        )
        .await
        .unwrap();
    api.volumes()
        .create(&VolumeCreate {
            name: Some(vname("full")),
            size: Some(GIB),
            template: Some(tname("fast")),
            replication: Some(3),
            place_all: pg(),
            place_tail: pg(),
            place_head: pg(),
            bw: Some(Limit::Value(100)),
            iops: Some(Limit::Unlimited),
            reuse_server: Some(false),
            tags: tags(),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    api.volumes()
        .update(
            &vref("full"),
            &VolumeUpdate {
                rename: Some(vname("full-renamed")),
                size_add: Some(GIB),
                shrink_ok: Some(false),
                template: Some(tname("fast")),
                replication: Some(2),
                place_all: pg(),
                place_tail: pg(),
                place_head: pg(),
                bw: Some(Limit::Unlimited),
                iops: Some(Limit::Value(7)),
                reuse_server: Some(true),
                tags: tags(),
                ..VolumeUpdate::default()
            },
        )
        .await
        .unwrap();
    api.snapshots()
        .create(
            &vref("full-renamed"),
            &SnapshotCreate {
                name: Some(sname("full-snap")),
                bind: Some(false),
                target_delete_date: Some(i64::from(u32::MAX)),
                delete_after: None,
                tags: tags(),
            },
        )
        .await
        .unwrap();
    api.snapshots()
        .update(
            &sref("full-snap"),
            &SnapshotUpdate {
                rename: Some(sname("full-snap2")),
                template: Some(tname("fast")),
                bind: Some(false),
                target_delete_date: Some(0),
                delete_after: Some(0),
                tags: tags(),
                place_all: pg(),
                place_tail: pg(),
                place_head: pg(),
                replication: Some(2),
                bw: Some(Limit::Value(1)),
                iops: Some(Limit::Value(2)),
                reuse_server: Some(false),
            },
        )
        .await
        .unwrap();
    api.attachments()
        .reassign_wait(&ReassignWait {
            reassign: vec![ReassignEntry::Volume(VolumeReassign {
                rw: Some(vec![client(4)]),
                ro: Some(vec![client(5)]),
                detach: Some(Detach::Clients(vec![client(6)])),
                force: Some(true),
                allow_remote_exported: Some(false),
                on_remote_attached: Some(OnAttached::Fail),
                mc_mode: Some(McMode::Export),
                ..VolumeReassign::new(vref("full-renamed"))
            })],
            attach_timeout: Some(1),
        })
        .await
        .unwrap();
    api.attachments()
        .reassign(&[ReassignEntry::Snapshot(SnapshotReassign {
            ro: Some(vec![client(4)]),
            detach: Some(Detach::Clients(vec![client(5)])),
            force: Some(false),
            ..SnapshotReassign::new(sref("full-snap2"))
        })])
        .await
        .unwrap();
    api.volumes()
        .delete_with(
            &vref("full-renamed"),
            &VolumeDelete {
                on_attached: Some(OnAttached::DetachForce),
            },
        )
        .await
        .unwrap();
    api.attachments()
        .reassign(&[ReassignEntry::detach_snapshot_everywhere(sref(
            "full-snap2",
        ))])
        .await
        .unwrap();
    api.volumes()
        .create(&VolumeCreate {
            name: Some(vname("to-freeze")),
            size: Some(GIB),
            replication: Some(1),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    api.volumes()
        .freeze(
            &vref("to-freeze"),
            &VolumeFreeze {
                target_delete_date: None,
                delete_after: Some(60),
            },
        )
        .await
        .unwrap();
    let extra = PlacementGroupName::new("extra2").unwrap();
    api.placement_groups()
        .update(
            &extra,
            &PlacementGroupUpdate {
                add_disks: vec![DiskId::new(101).unwrap(), DiskId::new(102).unwrap()],
                ..PlacementGroupUpdate::default()
            },
        )
        .await
        .unwrap();
    api.placement_groups()
        .update(
            &extra,
            &PlacementGroupUpdate {
                rename: Some(PlacementGroupName::new("extra3").unwrap()),
                add_disks: vec![],
                rm_disks: vec![DiskId::new(102).unwrap()],
            },
        )
        .await
        .unwrap();
}

async fn run_contract(multi_cluster: bool) -> BTreeMap<String, BTreeSet<String>> {
    let sim = Sim::builder().serve_client(1).start().unwrap();
    let (proxy, log) = recording_proxy(sim.addr()).await;
    let api = Client::builder()
        .base_url(format!("http://{proxy}"))
        .token(sim.token())
        .retry(RetryPolicy::none())
        .multi_cluster(multi_cluster)
        .build()
        .unwrap();
    drive_every_call(&api).await;

    let exchanges = log.lock().unwrap().clone();
    let mut seen = BTreeSet::new();
    let mut unknown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ex in &exchanges {
        let (call, mc) = call_of(&ex.path);
        let supports_mc = MULTI_CLUSTER.contains(&call);
        assert_eq!(
            mc,
            multi_cluster && supports_mc,
            "{} {}: `MultiCluster/` prefix",
            ex.method,
            ex.path
        );
        seen.insert((ex.method.clone(), call.to_owned()));
        let envelope: Value = serde_json::from_slice(&ex.body).unwrap();
        if ex.status != 200 {
            assert!(
                envelope["error"]["name"].is_string(),
                "{} {}: error answer without an error name",
                ex.method,
                ex.path
            );
            continue;
        }
        assert!(envelope["generation"].is_u64(), "{}: generation", ex.path);
        let found = decode(&ex.method, call, &envelope["data"])
            .unwrap_or_else(|err| panic!("{} {}: {err}", ex.method, ex.path));
        if !found.is_empty() {
            unknown
                .entry(format!("{} {call}", ex.method))
                .or_default()
                .extend(found);
        }
    }
    let missing: Vec<_> = MODELLED
        .iter()
        .filter(|(m, c)| !seen.contains(&((*m).to_owned(), (*c).to_owned())))
        .collect();
    assert!(missing.is_empty(), "calls never exercised: {missing:?}");
    unknown
}

/// Prints what the simulator sends that the models do not know, then fails if anything.
#[allow(clippy::print_stderr)] // the test's report
fn report(mode: &str, unknown: &BTreeMap<String, BTreeSet<String>>) {
    for (call, members) in unknown {
        eprintln!("[{mode}] {call}: members the client does not model: {members:?}");
    }
    assert!(
        unknown.is_empty(),
        "[{mode}] the simulator sends members the client's models do not know: {unknown:?}"
    );
}

#[tokio::test]
async fn every_modelled_call_decodes_the_simulators_answers_strictly() {
    let unknown = run_contract(false).await;
    report("local", &unknown);
}

#[tokio::test]
async fn every_modelled_call_decodes_strictly_under_multi_cluster() {
    let unknown = run_contract(true).await;
    report("MultiCluster", &unknown);
}
