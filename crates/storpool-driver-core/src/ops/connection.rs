//! Connection info: which StorPool client id a host attaches with.

use storpool_conf::SP_OURID;
use tracing::Instrument;

use crate::driver::{Driver, FALLBACK_CLIENT_ID, Op};
use crate::error::DriverError;
use crate::types::{ConnectionData, ConnectionInfo};

impl Driver {
    /// What a host needs to attach volume `id` (Cinder's `initialize_connection`):
    /// `{"driver_volume_type": "storpool", "data": {"client_id": N, "volume": ID,
    /// "access_mode": "rw"}}`. No cluster call: the attach itself happens on the host.
    ///
    /// The client id is `SP_OURID` of the host's section in storpool.conf (read with the
    /// driver's host configuration, see [`Driver::with_host_config`]); a host in
    /// [`crate::DriverOptions::own_hosts`] reads this node's section. Without `SP_OURID` the
    /// id is 65, as in the reference driver; an unreadable configuration or an invalid value
    /// is a configuration error naming the section and the variable.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let info = driver.connection_info("1234", "compute-1").await?;
    /// println!("client {}", info.data.client_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connection_info(
        &self,
        id: &str,
        host: &str,
    ) -> Result<ConnectionInfo, DriverError> {
        let op = Op::new("connection info", id);
        let span = op.span();
        let result = async {
            self.naming.volume(id)?;
            Ok(ConnectionInfo {
                driver_volume_type: "storpool".to_owned(),
                data: ConnectionData {
                    client_id: self.client_id(host)?,
                    volume: id.to_owned(),
                    access_mode: "rw".to_owned(),
                },
            })
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Whether `host` can attach volumes (Cinder's `validate_connector`): its client id can
    /// be determined. An invalid configuration is an error, as in the reference.
    ///
    /// ```no_run
    /// # fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// if !driver.validate_connector("compute-1")? {
    ///     println!("compute-1 has no SP_OURID");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn validate_connector(&self, host: &str) -> Result<bool, DriverError> {
        self.client_id(host).map(|_| true)
    }

    /// The StorPool client id of `host`.
    ///
    /// ```no_run
    /// # fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let id = driver.client_id("compute-1")?; // its section's SP_OURID, else 65
    /// println!("{id}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_id(&self, host: &str) -> Result<u16, DriverError> {
        let section = if self.options.own_hosts.iter().any(|h| h == host) {
            self.options
                .node_name
                .clone()
                .unwrap_or_else(storpool_conf::node_name)
        } else {
            host.to_owned()
        };
        let invalid = |source| DriverError::ClientId {
            section: section.clone(),
            variable: SP_OURID,
            source: Box::new(source),
        };
        let config = self
            .host_config
            .clone()
            .section(section.clone())
            .load()
            .map_err(invalid)?;
        if let Some(id) = config.our_id().map_err(invalid)? {
            return Ok(id);
        }
        tracing::debug!(section, "no SP_OURID for the host: using client id 65");
        Ok(FALLBACK_CLIENT_ID)
    }
}
