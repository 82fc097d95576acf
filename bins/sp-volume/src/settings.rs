//! What the command line resolves to, and the cluster, driver and connector built from it.

use std::path::PathBuf;
use std::time::Duration;

use storpool_api::TemplateName;
use storpool_attach::{AttachError, Connector, DeviceRoot, WaitOptions};
use storpool_cli::{Cluster, Failure};
use storpool_driver_core::{Driver, DriverError, DriverOptions, ErrorKind, Specs, VolumeTypeSpecs};
use storpool_image::CancellationToken;

use crate::cli::{Cli, TypeSpecs};

/// Resolved options, before any call.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// `--json`.
    pub(crate) json: bool,
    /// `-q` given: no notices.
    pub(crate) quiet: bool,
    /// Draw copy progress on stderr.
    pub(crate) progress: bool,
    /// The driver's defaults (`--default-template`, `--default-replication`).
    pub(crate) options: DriverOptions,
    /// `--dev-root`, when given.
    pub(crate) dev_root: Option<PathBuf>,
    /// `--attach-timeout`.
    pub(crate) attach_timeout: Duration,
}

impl Settings {
    pub(crate) fn resolve(cli: &Cli) -> Result<Self, Failure> {
        let template = cli
            .default_template
            .as_deref()
            .map(|name| {
                TemplateName::new(name).map_err(|err| {
                    Failure::usage(
                        anyhow::Error::new(err)
                            .context(format!("invalid `--default-template {name}`")),
                    )
                })
            })
            .transpose()?;
        let mut options = DriverOptions::new().default_replication(cli.default_replication);
        // Optional values go straight into the public fields.
        options.default_template = template;
        options.backend_name.clone_from(&cli.backend_name);
        Ok(Self {
            json: cli.global.json,
            quiet: cli.global.quiet > 0,
            progress: cli.global.progress(),
            options,
            dev_root: cli.dev_root.clone(),
            attach_timeout: cli.attach_timeout,
        })
    }
}

/// Cinder's own type-spec keys without a scope: another layer of the orchestrator reads them,
/// so they pass without a warning.
const CINDER_KEYS: [&str; 6] = [
    "multiattach",
    "replication_enabled",
    "group_replication_enabled",
    "consistent_group_snapshot_enabled",
    "thin_provisioning_support",
    "thick_provisioning_support",
];

/// The keys of `specs` worth a warning: ones the driver ignores (see
/// [`VolumeTypeSpecs::ignored`]) that carry no scope (`capabilities:`, `qos:`, ...) and are not
/// Cinder's own. Specs the driver refuses give none: the operation fails on them.
pub(crate) fn unknown_spec_keys(specs: &Specs) -> Vec<String> {
    match VolumeTypeSpecs::parse(specs) {
        Ok(parsed) => parsed
            .ignored
            .into_iter()
            .filter(|key| !key.contains(':') && !CINDER_KEYS.contains(&key.as_str()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The specs of `--type-spec KEY=VALUE` options; a key given twice with different values is
/// refused.
pub(crate) fn specs(given: &TypeSpecs) -> Result<Specs, Failure> {
    let mut specs = Specs::new();
    for (key, value) in &given.specs {
        if let Some(earlier) = specs.insert(key.clone(), value.clone())
            && earlier != *value
        {
            return Err(Failure::usage(anyhow::anyhow!(
                "`--type-spec {key}` is given twice, as `{earlier}` and `{value}`"
            )));
        }
    }
    Ok(specs)
}

/// What a command works with: its settings, the cluster, the driver on it, and what stops
/// it (cancelled by a signal, for the commands that clean up after themselves).
pub(crate) struct Ctx {
    pub(crate) settings: Settings,
    pub(crate) cluster: Cluster,
    pub(crate) driver: Driver,
    pub(crate) cancel: CancellationToken,
}

impl Ctx {
    /// The driver on the cluster's client (with `--api-timeout`/`--api-retries`), the volume
    /// prefix from its configuration, and hosts' client ids from its host sections.
    pub(crate) fn new(
        settings: Settings,
        cluster: Cluster,
        cancel: CancellationToken,
    ) -> Result<Self, Failure> {
        let options = settings
            .options
            .clone()
            .volume_prefix(cluster.config().volume_prefix());
        let driver = Driver::new(cluster.client().clone(), options)
            .map_err(driver_failure)?
            .with_host_config(cluster.hosts().clone());
        Ok(Self {
            settings,
            cluster,
            driver,
            cancel,
        })
    }

    /// The specs of `--type-spec` options ([`specs`]), with a warning on stderr (unless `-q`)
    /// for each key no StorPool driver reads ([`unknown_spec_keys`]).
    pub(crate) fn specs(&self, given: &TypeSpecs) -> Result<Specs, Failure> {
        let specs = specs(given)?;
        if !self.settings.quiet {
            for key in unknown_spec_keys(&specs) {
                crate::output::warning(&format!(
                    "ignoring the volume-type spec `{key}`: no StorPool driver reads it"
                ));
            }
        }
        Ok(specs)
    }

    /// The connector of this node (`SP_OURID`; client 1 on the embedded simulator), for
    /// image import and export.
    pub(crate) fn connector(&self) -> Result<Connector, Failure> {
        let root = self.cluster.device_root();
        Ok(
            Connector::from_conf(self.cluster.config(), self.cluster.client())
                .map_err(attach_failure)?
                .with_device_root(DeviceRoot::new(root))
                .with_wait(WaitOptions {
                    timeout: self.settings.attach_timeout,
                    ..WaitOptions::default()
                }),
        )
    }
}

/// Exit 2 for bad input or configuration (and answers that make no sense), 1 for an
/// operation the cluster refused or could not carry out.
pub(crate) fn driver_failure(err: DriverError) -> Failure {
    let hint = match err.kind() {
        ErrorKind::Unavailable | ErrorKind::Timeout => Some(
            "is the StorPool API reachable? `--api-timeout` and `--api-retries` set how long \
             to try",
        ),
        ErrorKind::Configuration if matches!(err, DriverError::ClientId { .. }) => {
            Some("`SP_OURID` must be a client id 1..4095")
        }
        _ => None,
    };
    let failure = if err.is_cluster_failure() {
        Failure::operation(err)
    } else {
        Failure::usage(err)
    };
    match hint {
        Some(hint) => failure.with_hint(hint),
        None => failure,
    }
}

/// Exit 2 for bad usage or configuration, 1 for an attach or detach that failed.
pub(crate) fn attach_failure(err: AttachError) -> Failure {
    let hint = match &err {
        AttachError::Config(_) => Some(
            "set `SP_OURID` (this node's StorPool client id) in storpool.conf to import or \
             export images",
        ),
        AttachError::Timeout { .. } | AttachError::ApiTimeout { .. } => {
            Some("is `storpool_block` running on this node? A longer `--attach-timeout` may help")
        }
        _ => None,
    };
    let failure = if err.is_usage() {
        Failure::usage(err)
    } else {
        Failure::operation(err)
    };
    match hint {
        Some(hint) => failure.with_hint(hint),
        None => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_given_twice_must_agree() {
        let given = |pairs: &[(&str, &str)]| TypeSpecs {
            specs: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        assert_eq!(
            specs(&given(&[("a", "1"), ("a", "1"), ("b", "2")]))
                .unwrap()
                .len(),
            2
        );
        let failure = specs(&given(&[("a", "1"), ("a", "2")])).unwrap_err();
        assert!(
            failure
                .render("x", false)
                .contains("`--type-spec a` is given twice")
        );
    }
}
