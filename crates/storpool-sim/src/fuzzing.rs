//! A pure entry point for fuzzing the request decoding and the handlers: one request against
//! a throwaway in-memory cluster (no HTTP, no files).

use std::collections::{BTreeSet, HashSet};

use crate::engine::{Core, Method, Settings};
use crate::model::ClientState;
use crate::server::{self, Reply};
use crate::sim::{ClusterLayout, new_cluster};

/// A throwaway in-memory cluster that keeps its state between requests.
///
/// ```
/// use storpool_sim::fuzzing::FuzzCluster;
///
/// let mut cluster = FuzzCluster::new();
/// let body = br#"{"name":"v1","size":1073741824,"replication":3}"#;
/// assert_eq!(cluster.request("POST", "/ctrl/1.0/VolumeCreate", body).0, 200);
/// assert_eq!(cluster.request("POST", "/ctrl/1.0/VolumeCreate", body).0, 500); // the name is taken
/// cluster.check_invariants()?;
/// # Ok::<(), String>(())
/// ```
pub struct FuzzCluster {
    pub(crate) core: Core,
}

impl Default for FuzzCluster {
    fn default() -> Self {
        Self::new()
    }
}

impl FuzzCluster {
    /// A fresh cluster with the default layout and clients 1..=16.
    ///
    /// ```
    /// let mut cluster = storpool_sim::fuzzing::FuzzCluster::new();
    /// let (status, body) = cluster.request("GET", "/ctrl/1.0/VolumesList", b"");
    /// assert_eq!(status, 200);
    /// let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    /// assert_eq!(answer["data"], serde_json::json!([])); // no volumes yet
    /// ```
    pub fn new() -> Self {
        let layout = ClusterLayout::default();
        let mut cl = new_cluster(&layout);
        for c in &layout.clients {
            cl.clients.insert(
                *c,
                ClientState {
                    running: true,
                    applied: 1,
                },
            );
        }
        Self {
            core: Core {
                cl,
                settings: Settings {
                    max_replication: 3,
                    default_replication: None,
                    served: BTreeSet::new(),
                    omit_empty_tags: false,
                    version: "fuzz".to_owned(),
                },
                store: None,
                data: None,
                open: HashSet::new(),
                clock_offset: 0,
                watch: crate::copies::Watch::default(),
                next_expiry: std::sync::Mutex::default(),
            },
        }
    }

    /// Handle one request: `method` (`GET`/`POST`), `path` (from `/ctrl/1.0/`), raw body.
    /// Returns the HTTP status and the JSON body. Never panics.
    ///
    /// ```
    /// let mut cluster = storpool_sim::fuzzing::FuzzCluster::new();
    /// let body = br#"{"name":"v1","size":1073741824,"replication":3}"#;
    /// assert_eq!(cluster.request("POST", "/ctrl/1.0/VolumeCreate", body).0, 200);
    /// let (status, body) = cluster.request("GET", "/ctrl/1.0/VolumesList", b"");
    /// let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    /// assert_eq!((status, &answer["data"][0]["name"]), (200, &serde_json::json!("v1")));
    /// ```
    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let reply = self.reply(method, path, body);
        (reply.status, reply.into_body())
    }

    fn reply(&mut self, method: &str, path: &str, body: &[u8]) -> Reply {
        let err = |e: crate::error::ApiErr| Reply::error(e.status.unwrap_or(500), &e);
        let m = match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            _ => return err(crate::error::ApiErr::invalid("unsupported method").with_status(405)),
        };
        let meta = &self.core.cl.meta;
        let cluster = || {
            (
                meta.cluster_name.clone(),
                format!("{}.{}", meta.location_id, meta.sub_id),
            )
        };
        let routed = match server::route(m, path, cluster) {
            Ok(r) => r,
            Err(e) => return err(e),
        };
        let json = match crate::args::parse_body(body) {
            Ok(j) => j,
            Err(e) => return err(e),
        };
        let answer = match routed.def.handler {
            crate::engine::Handler::Read(f) => self.core.read(f, &routed.args, json),
            crate::engine::Handler::Raw(f) => self.core.read_raw(f, &routed.args, json, Vec::new()),
            crate::engine::Handler::Write(f) => self.core.write(f, &routed.args, json),
        };
        match answer.result {
            Ok(data) => Reply::ok(answer.generation, data),
            Err(e) => err(e),
        }
    }

    /// Check the cluster's internal consistency (indexes match objects, parents exist, names
    /// unique). Returns a description of the first problem.
    ///
    /// ```
    /// let mut cluster = storpool_sim::fuzzing::FuzzCluster::new();
    /// cluster.request("POST", "/ctrl/1.0/VolumeCreate", b"{\"name\":\"v1\",\"size\":-1}");
    /// cluster.check_invariants()?; // a refused request leaves the cluster consistent
    /// # Ok::<(), String>(())
    /// ```
    pub fn check_invariants(&self) -> Result<(), String> {
        let cl = &self.core.cl;
        let mut names = HashSet::new();
        for o in cl.objects.values() {
            if !names.insert(o.display_name()) {
                return Err(format!("duplicate name {}", o.display_name()));
            }
            if cl.by_gid(&o.gid).map(|x| x.id) != Some(o.id) {
                return Err(format!("global id index broken for {}", o.gid));
            }
            if let Some(p) = o.parent {
                match cl.obj(p) {
                    Some(po) if po.snapshot => {}
                    _ => {
                        return Err(format!(
                            "{} has a missing or non-snapshot parent",
                            o.display_name()
                        ));
                    }
                }
            }
            if o.size == 0 || o.size % 512 != 0 {
                return Err(format!("{} has size {}", o.display_name(), o.size));
            }
        }
        Ok(())
    }
}

/// Handle one request against a fresh throwaway cluster (see [`FuzzCluster::request`]).
///
/// ```
/// use storpool_sim::fuzzing::handle_request;
///
/// let (status, body) = handle_request("POST", "/ctrl/1.0/VolumeCreate", b"\xff{");
/// assert_eq!(status, 500);
/// let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
/// assert_eq!(answer["error"]["name"], "invalidParam");
/// ```
pub fn handle_request(method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    FuzzCluster::new().request(method, path, body)
}
