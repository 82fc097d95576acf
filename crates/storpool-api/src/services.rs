//! Service and client calls: `client.services()`, `client.clients()`.

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{ClientConfigStatus, ClusterStatus};
use crate::names::ClientId;

/// Service calls; see [`Client::services`].
#[derive(Clone, Copy, Debug)]
pub struct Services<'a> {
    client: &'a Client,
}

/// StorPool client (node) calls; see [`Client::clients`].
#[derive(Clone, Copy, Debug)]
pub struct Clients<'a> {
    client: &'a Client,
}

impl Client {
    /// Service calls.
    pub fn services(&self) -> Services<'_> {
        Services { client: self }
    }

    /// Calls about StorPool clients (the nodes that attach volumes).
    pub fn clients(&self) -> Clients<'_> {
        Clients { client: self }
    }
}

impl Services<'_> {
    /// `GET ServicesList`: every service; fails when the cluster is not operational (a good
    /// connection check).
    pub async fn list(&self) -> Result<ClusterStatus, ApiError> {
        self.client.get("ServicesList", &[], false).await
    }

    /// `GET ServersList`: like [`Services::list`] without the clients.
    pub async fn servers(&self) -> Result<ClusterStatus, ApiError> {
        self.client.get("ServersList", &[], false).await
    }
}

impl Clients<'_> {
    /// `GET ClientsConfigDump`: how far every client has applied the configuration.
    pub async fn config_dump(&self) -> Result<Vec<ClientConfigStatus>, ApiError> {
        self.client.get("ClientsConfigDump", &[], false).await
    }

    /// `GET ClientConfigWait/ID`: returns once the client has caught up with the generation
    /// current when the request arrived (can take long: mind the timeout).
    pub async fn config_wait(&self, client: ClientId) -> Result<Vec<ClientConfigStatus>, ApiError> {
        self.client
            .get("ClientConfigWait", &[&client.to_string()], false)
            .await
    }
}
