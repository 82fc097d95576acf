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
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let services = client.services(); // ServicesList, ServersList
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn services(&self) -> Services<'_> {
        Services { client: self }
    }

    /// Calls about StorPool clients (the nodes that attach volumes).
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let clients = client.clients(); // ClientsConfigDump, ClientConfigWait
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn clients(&self) -> Clients<'_> {
        Clients { client: self }
    }
}

impl Services<'_> {
    /// `GET ServicesList`: every service; fails when the cluster is not operational (a good
    /// connection check).
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// let cluster = client.services().list().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<ClusterStatus, ApiError> {
        self.client.get("ServicesList", &[], false).await
    }

    /// `GET ServersList`: like [`Services::list`] without the clients.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// let servers = client.services().servers().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn servers(&self) -> Result<ClusterStatus, ApiError> {
        self.client.get("ServersList", &[], false).await
    }
}

impl Clients<'_> {
    /// `GET ClientsConfigDump`: how far every client has applied the configuration.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for config in client.clients().config_dump().await? {
    ///     println!("{config:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn config_dump(&self) -> Result<Vec<ClientConfigStatus>, ApiError> {
        self.client.get("ClientsConfigDump", &[], false).await
    }

    /// `GET ClientConfigWait/ID`: returns once the client has caught up with the generation
    /// current when the request arrived (can take long: mind the timeout).
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::ClientId;
    ///
    /// client.clients().config_wait(ClientId::new(3)?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn config_wait(&self, client: ClientId) -> Result<Vec<ClientConfigStatus>, ApiError> {
        self.client
            .get("ClientConfigWait", &[&client.to_string()], false)
            .await
    }
}
