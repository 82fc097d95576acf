//! The command line as typed: clap structures and the parsers of single values.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use storpool_cli::{EXIT_CODES_SIGNALS_HELP, GlobalArgs, parse_secs};

/// StorPool volumes from the shell: what the OpenStack Cinder StorPool driver does, one
/// subcommand per operation.
///
/// Volumes and snapshots are named by the orchestrator's ids; the cluster names are derived
/// from them (`{prefix}--volume-{ID}`, `{prefix}--snap--none--snapshot-{ID}`, the prefix from
/// `SP_OPENSTACK_VOLUME_PREFIX`, default `os`). Sizes are whole GiB. A volume type's specs are
/// given as `--type-spec KEY=VALUE`: `storpool_template=NAME` is its StorPool template;
/// `total_iops_sec`, `total_bytes_sec`, `storpool:iops`, `storpool:bw` its QoS limits.
///
/// With `--embedded` (or `STORPOOL_EMBEDDED=DIR`) it works on the embedded StorPool
/// simulator, whose state persists in a local folder; without them and without a configured
/// cluster it refuses to run. `sp-volume demo` shows the whole flow in a few seconds on a
/// simulator of its own.
#[derive(Debug, Parser)]
#[command(name = crate::BIN, version, after_help = EXIT_CODES_SIGNALS_HELP)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    /// Template for volumes whose type names none (Cinder's `storpool_template`)
    #[arg(
        long,
        global = true,
        value_name = "T",
        env = "STORPOOL_DEFAULT_TEMPLATE"
    )]
    pub(crate) default_template: Option<String>,

    /// Replication for volumes without a template (Cinder's `storpool_replication`)
    #[arg(long, global = true, value_name = "N", default_value_t = 3,
          env = "STORPOOL_DEFAULT_REPLICATION",
          value_parser = clap::value_parser!(u8).range(1..=3))]
    pub(crate) default_replication: u8,

    /// This backend's name (Cinder's `volume_backend_name`): what `stats` reports, and the
    /// only `volume_backend_name` a retype accepts [default: storpool]
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "STORPOOL_BACKEND_NAME"
    )]
    pub(crate) backend_name: Option<String>,

    /// Where `storpool_block` puts this node's devices, for image import and export
    /// [default: /dev, or the embedded simulator's DIR/dev]
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) dev_root: Option<PathBuf>,

    /// How long image import and export wait for a device to attach or detach
    #[arg(long, global = true, value_name = "SECS", default_value = "60", value_parser = parse_secs)]
    pub(crate) attach_timeout: Duration,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The specs of a volume type, repeatable: `--type-spec storpool_template=ssd`.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct TypeSpecs {
    /// A spec of the volume type (repeatable): `storpool_template=NAME`, `total_iops_sec=N`,
    /// `total_bytes_sec=N`, `storpool:iops=N`, `storpool:bw=MIB`
    #[arg(long = "type-spec", value_name = "KEY=VALUE", value_parser = parse_spec)]
    pub(crate) specs: Vec<(String, String)>,
}

/// A size in GiB.
#[derive(Clone, Copy, Debug, clap::Args)]
pub(crate) struct Size {
    /// The size in GiB
    #[arg(long, value_name = "GIB", value_parser = parse_gib, allow_hyphen_values = true)]
    pub(crate) size: u64,
}

/// The image formats `export-image` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// A raw disk image (sparse)
    Raw,
    /// A qcow2 image
    Qcow2,
}

impl From<ExportFormat> for storpool_image::ImageFormat {
    fn from(format: ExportFormat) -> Self {
        match format {
            ExportFormat::Raw => Self::Raw,
            ExportFormat::Qcow2 => Self::Qcow2,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a volume
    Create {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        specs: TypeSpecs,
    },
    /// Delete a volume (detached everywhere first); a volume already gone is success
    Delete {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
    },
    /// Grow a volume
    Extend {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        #[command(flatten)]
        size: Size,
    },
    /// Snapshot a volume
    Snapshot {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        volume_id: String,
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
    },
    /// Delete a snapshot; a snapshot already gone is success
    DeleteSnapshot {
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
    },
    /// Create a volume from a snapshot (thin: it shares the snapshot's data)
    CreateFromSnapshot {
        /// The new volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        specs: TypeSpecs,
    },
    /// Create a volume as a copy of another (thin)
    Clone {
        /// The new volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The source volume's id
        #[arg(value_name = "SOURCE_VOLUME_ID")]
        source_id: String,
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        specs: TypeSpecs,
    },
    /// Revert a volume to one of its snapshots
    Revert {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
        /// Keep the volume's size when it grew after the snapshot (default: the snapshot's)
        #[arg(long)]
        keep_size: bool,
    },
    /// Give a volume the template, replication and QoS of a new volume type (its specs)
    Retype {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        #[command(flatten)]
        specs: TypeSpecs,
        /// The new type's encryption differs (the retype is refused: migrate instead)
        #[arg(long)]
        encryption_changed: bool,
    },
    /// After a migration into a temporary volume, give the data the original volume's name;
    /// prints Cinder's model update
    FinishMigration {
        /// The migrated volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The temporary volume's id
        #[arg(value_name = "TEMP_VOLUME_ID")]
        temp_id: String,
        /// The temporary volume's `_name_id`, reported when the data stays under its name
        /// (default: `TEMP_VOLUME_ID`)
        #[arg(long, value_name = "ID")]
        temp_name_id: Option<String>,
    },
    /// Snapshot several volumes at one instant (crash-consistent)
    GroupSnapshot {
        /// The group snapshot's id
        #[arg(value_name = "GROUP_SNAPSHOT_ID")]
        group_id: String,
        /// The volumes' ids
        #[arg(value_name = "VOLUME_ID", required = true)]
        volume_ids: Vec<String>,
    },
    /// Delete every snapshot of a group snapshot
    DeleteGroupSnapshot {
        /// The group snapshot's id
        #[arg(value_name = "GROUP_SNAPSHOT_ID")]
        group_id: String,
    },
    /// Create a volume from one member of a group snapshot
    CreateFromGroupSnapshot {
        /// The new volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The group snapshot's id
        #[arg(value_name = "GROUP_SNAPSHOT_ID")]
        group_id: String,
        /// The id of the volume whose snapshot in the group to use
        #[arg(value_name = "SOURCE_VOLUME_ID")]
        source_id: String,
        #[command(flatten)]
        size: Size,
        #[command(flatten)]
        specs: TypeSpecs,
    },
    /// List the cluster's volumes that this tool does not manage (candidates for `manage`)
    Manageable,
    /// Adopt an existing volume under a volume id (it is renamed; its data stays)
    Manage {
        /// The id it gets
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// Its name on the cluster now
        #[arg(value_name = "EXISTING_NAME")]
        existing_name: String,
    },
    /// Release a volume: it is renamed out of this tool's names; its data stays
    Unmanage {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
    },
    /// Capacity and capabilities in Cinder's stats shape (one pool per template)
    Stats,
    /// What a host needs to attach a volume (Cinder's connection info)
    ConnectionInfo {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The host: its `SP_OURID` is read from its storpool.conf section
        #[arg(long, value_name = "HOST")]
        host: String,
    },
    /// List the volumes this tool manages
    List,
    /// List this tool's snapshots (temporary ones of image exports included), or those taken
    /// of one volume
    ListSnapshots {
        /// Only the snapshots taken of this volume
        #[arg(value_name = "VOLUME_ID")]
        volume_id: Option<String>,
    },
    /// Show one snapshot
    ShowSnapshot {
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
    },
    /// List the cluster's templates: replication, placement groups, volumes, capacity
    ListTemplates,
    /// List the group snapshots and their members
    ListGroupSnapshots,
    /// Check this node's set-up: configuration files, the API and its token, this node's
    /// client (`SP_OURID`), the device folder, `qemu-img`, and whether the cluster is a
    /// simulator; one line per check, exit 1 when one fails
    Doctor,
    /// Show one volume
    Show {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
    },
    /// Create a volume from an image file (raw, qcow2, or any format qemu-img reads), or write
    /// the image into the existing volume of that id
    ImportImage {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The image file
        #[arg(value_name = "IMAGE")]
        image: PathBuf,
        /// The volume's size in GiB (default: the image's virtual size, rounded up)
        #[arg(long, value_name = "GIB", value_parser = parse_gib, allow_hyphen_values = true)]
        size: Option<u64>,
        /// The image's format (default: detected by qemu-img); give it for images from
        /// untrusted sources
        #[arg(long, value_name = "FORMAT")]
        image_format: Option<String>,
        #[command(flatten)]
        specs: TypeSpecs,
    },
    /// Copy a volume into an image file, through a temporary snapshot (the volume may stay in
    /// use)
    ExportImage {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The image file to write
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The image format
        #[arg(long, value_enum, default_value = "raw")]
        format: ExportFormat,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Show the main flow end to end: make a bootable disk image, import it, snapshot it, boot
    /// several instance volumes from the snapshot, attach one and check its bytes, show stats
    /// and the volumes, clean up. Runs on a fresh embedded simulator of its own unless
    /// `--embedded`, `--config`, `STORPOOL_EMBEDDED` or `STORPOOL_CONF` names a cluster.
    Demo {
        /// Size of the disk image in MiB
        #[arg(long, value_name = "MIB", default_value_t = 64,
              value_parser = clap::value_parser!(u64).range(2..=4096))]
        image_mib: u64,
        /// How many instance volumes to create from the snapshot
        #[arg(long, value_name = "N", default_value_t = 3,
              value_parser = clap::value_parser!(u32).range(1..=100))]
        instances: u32,
    },
}

/// A size in whole GiB, 1 or more.
pub(crate) fn parse_gib(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("a volume holds at least 1 GiB".to_owned()),
        Ok(gib) => Ok(gib),
        Err(_) => Err("expected a whole number of GiB, 1 or more".to_owned()),
    }
}

/// `KEY=VALUE`, the key not empty.
pub(crate) fn parse_spec(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("`{text}`: expected KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(storpool_cli::normalize_args(
            &Cli::command(),
            std::iter::once("sp-volume").chain(args.iter().copied()),
        ))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_are_whole_positive_gib() {
        assert_eq!(parse_gib("10").unwrap(), 10);
        for bad in ["0", "-1", "1.5", "ten", "", "99999999999999999999"] {
            assert!(parse_gib(bad).is_err(), "{bad}");
        }
        assert!(parse_gib("0").unwrap_err().contains("at least 1 GiB"));
    }

    #[test]
    fn type_specs_are_key_value_pairs() {
        assert_eq!(
            parse_spec("storpool_template=ssd").unwrap(),
            ("storpool_template".to_owned(), "ssd".to_owned())
        );
        assert_eq!(
            parse_spec("qos:total_iops_sec=1000").unwrap().0,
            "qos:total_iops_sec"
        );
        assert_eq!(parse_spec("k=").unwrap().1, "");
        for bad in ["novalue", "=x", ""] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_synopsis_parses_with_global_options_before_and_after() {
        let cli = parse(&[
            "--json",
            "create",
            "v1",
            "--size",
            "10",
            "--type-spec",
            "storpool_template=ssd",
            "--default-replication",
            "2",
            "--embedded",
        ])
        .unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.default_replication, 2);
        assert_eq!(cli.global.embedded, Some(None));
        assert!(matches!(
            cli.command,
            Command::Create { ref id, size: Size { size: 10 }, ref specs } if id == "v1" && specs.specs.len() == 1
        ));
        let cli = parse(&["group-snapshot", "g", "a", "b", "-q"]).unwrap();
        assert!(
            matches!(cli.command, Command::GroupSnapshot { ref volume_ids, .. } if volume_ids.len() == 2)
        );
        assert!(parse(&["group-snapshot", "g"]).is_err());
        assert!(parse(&["create", "v", "--size", "-1"]).is_err());
        assert!(parse(&["--default-replication", "4", "list"]).is_err());
        let cli = parse(&["export-image", "v", "/tmp/x", "--format", "qcow2"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::ExportImage {
                format: ExportFormat::Qcow2,
                ..
            }
        ));
    }
}
