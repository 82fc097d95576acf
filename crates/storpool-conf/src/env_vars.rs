//! Every variable name this workspace reads, in one place.

/// Names another main configuration file instead of `/etc/storpool.conf` (every binary honours it).
pub const STORPOOL_CONF: &str = "STORPOOL_CONF";
/// The API secret; also read from the environment, overriding the files.
pub const SP_AUTH_TOKEN: &str = "SP_AUTH_TOKEN";
/// The API host; also read from the environment, overriding the files.
pub const SP_API_HTTP_HOST: &str = "SP_API_HTTP_HOST";
/// The API port; also read from the environment, overriding the files.
pub const SP_API_HTTP_PORT: &str = "SP_API_HTTP_PORT";
/// This node's StorPool id (the client id volumes are attached to).
pub const SP_OURID: &str = "SP_OURID";
/// Prefix of the names the OpenStack-style driver gives to cluster objects.
pub const SP_OPENSTACK_VOLUME_PREFIX: &str = "SP_OPENSTACK_VOLUME_PREFIX";
/// The cluster's name (multi-cluster setups).
pub const SP_CLUSTER_NAME: &str = "SP_CLUSTER_NAME";
/// The cluster's id, e.g. `d.n` (multi-cluster setups).
pub const SP_CLUSTER_ID: &str = "SP_CLUSTER_ID";

/// The variables the environment may override, in the official reader's order.
pub const ENV_OVERRIDES: [&str; 3] = [SP_AUTH_TOKEN, SP_API_HTTP_HOST, SP_API_HTTP_PORT];

/// Variables whose values are secrets: never printed unless a user asks explicitly.
pub const SECRET_VARS: [&str; 1] = [SP_AUTH_TOKEN];

/// Whether the variable `name` holds a secret (see [`SECRET_VARS`]).
pub fn is_secret(name: &str) -> bool {
    SECRET_VARS.contains(&name)
}
