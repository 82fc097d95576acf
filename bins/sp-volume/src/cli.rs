//! The command line as typed: clap structures and the parsers of single values.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use storpool_cli::{EXIT_CODES_SIGNALS_HELP, GLOBAL_OPTIONS, GlobalArgs, parse_secs};

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
          env = "STORPOOL_DEFAULT_REPLICATION", help_heading = GLOBAL_OPTIONS,
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
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL_OPTIONS)]
    pub(crate) dev_root: Option<PathBuf>,

    /// How long image import and export wait for a device to attach or detach
    #[arg(long, global = true, value_name = "SECS", default_value = "60", value_parser = parse_secs,
          help_heading = GLOBAL_OPTIONS)]
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
    #[command(
        after_help = "Examples:\n  sp-volume create base --size 10 --type-spec storpool_template=ssd\n  sp-volume create scratch --size 100 --type-spec storpool_replication=2\n  sp-volume create db --size 50 --type-spec total_iops_sec=5000 --json"
    )]
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
    #[command(after_help = "Examples:\n  sp-volume delete vm-1\n  sp-volume --json delete vm-1")]
    Delete {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
    },
    /// Grow a volume
    #[command(
        after_help = "Examples:\n  sp-volume extend vm-1 --size 40\n  sp-volume extend vm-1 --size 40 --json"
    )]
    Extend {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        #[command(flatten)]
        size: Size,
    },
    /// Snapshot a volume
    #[command(
        after_help = "Examples:\n  sp-volume snapshot base golden\n  sp-volume snapshot db db-before-upgrade --json"
    )]
    Snapshot {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        volume_id: String,
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
    },
    /// Delete a snapshot; a snapshot already gone is success
    #[command(
        after_help = "Examples:\n  sp-volume delete-snapshot golden\n  sp-volume delete-snapshot export-vm-1-1234   # left by an interrupted export"
    )]
    DeleteSnapshot {
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
    },
    /// Create a volume from a snapshot (thin: it shares the snapshot's data)
    #[command(
        after_help = "Examples:\n  sp-volume create-from-snapshot vm-1 golden --size 20\n  sp-volume create-from-snapshot vm-2 golden --size 20 --type-spec storpool_template=hdd"
    )]
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
    #[command(
        after_help = "Examples:\n  sp-volume clone vm-copy vm-1 --size 20\n  sp-volume clone vm-cold vm-1 --size 20 --type-spec storpool_template=hdd"
    )]
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
    #[command(
        after_help = "Examples:\n  sp-volume revert db db-before-upgrade\n  sp-volume revert db db-before-upgrade --keep-size"
    )]
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
    #[command(
        after_help = "Examples:\n  sp-volume retype vm-1 --type-spec storpool_template=hdd\n  sp-volume retype vm-1 --type-spec storpool_replication=2 --type-spec total_iops_sec=1000\n  sp-volume --json retype vm-1 --type-spec volume_backend_name=other"
    )]
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
    #[command(
        after_help = "Examples:\n  sp-volume finish-migration vm-1 vm-1-tmp\n  sp-volume finish-migration vm-1 vm-1-tmp --temp-name-id 5f0c --json"
    )]
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
    #[command(
        after_help = "Examples:\n  sp-volume group-snapshot nightly db log\n  sp-volume --json group-snapshot nightly db log"
    )]
    GroupSnapshot {
        /// The group snapshot's id
        #[arg(value_name = "GROUP_SNAPSHOT_ID")]
        group_id: String,
        /// The volumes' ids
        #[arg(value_name = "VOLUME_ID", required = true)]
        volume_ids: Vec<String>,
    },
    /// Delete every snapshot of a group snapshot
    #[command(
        after_help = "Examples:\n  sp-volume delete-group-snapshot nightly\n  sp-volume --json delete-group-snapshot nightly"
    )]
    DeleteGroupSnapshot {
        /// The group snapshot's id
        #[arg(value_name = "GROUP_SNAPSHOT_ID")]
        group_id: String,
    },
    /// Create a volume from one member of a group snapshot
    #[command(
        after_help = "Examples:\n  sp-volume create-from-group-snapshot db-restored nightly db --size 50\n  sp-volume create-from-group-snapshot log-restored nightly log --size 10"
    )]
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
    #[command(after_help = "Examples:\n  sp-volume manageable\n  sp-volume --json manageable")]
    Manageable,
    /// Adopt an existing volume under a volume id (it is renamed; its data stays)
    #[command(
        after_help = "Examples:\n  sp-volume manage legacy-1 old-volume-name\n  sp-volume --json manage legacy-1 old-volume-name"
    )]
    Manage {
        /// The id it gets
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// Its name on the cluster now
        #[arg(value_name = "EXISTING_NAME")]
        existing_name: String,
    },
    /// Release a volume: it is renamed out of this tool's names; its data stays
    #[command(
        after_help = "Examples:\n  sp-volume unmanage legacy-1\n  sp-volume --json unmanage legacy-1"
    )]
    Unmanage {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
    },
    /// Capacity and capabilities in Cinder's stats shape (one pool per template)
    #[command(after_help = "Examples:\n  sp-volume stats\n  sp-volume --json stats")]
    Stats,
    /// What a host needs to attach a volume (Cinder's connection info)
    #[command(
        after_help = "Examples:\n  sp-volume connection-info vm-1 --host compute-1\n  sp-volume --json connection-info vm-1 --host compute-1"
    )]
    ConnectionInfo {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The host: its `SP_OURID` is read from its storpool.conf section
        #[arg(long, value_name = "HOST")]
        host: String,
    },
    /// List the volumes this tool manages
    #[command(after_help = "Examples:\n  sp-volume list\n  sp-volume --json list")]
    List,
    /// List this tool's snapshots (temporary ones of image exports included), or those taken
    /// of one volume
    #[command(
        after_help = "Examples:\n  sp-volume list-snapshots\n  sp-volume list-snapshots base\n  sp-volume --json list-snapshots"
    )]
    ListSnapshots {
        /// Only the snapshots taken of this volume
        #[arg(value_name = "VOLUME_ID")]
        volume_id: Option<String>,
    },
    /// Show one snapshot
    #[command(
        after_help = "Examples:\n  sp-volume show-snapshot golden\n  sp-volume --json show-snapshot golden"
    )]
    ShowSnapshot {
        /// The snapshot's id
        #[arg(value_name = "SNAPSHOT_ID")]
        snapshot_id: String,
    },
    /// List the cluster's templates: replication, placement groups, volumes, capacity
    #[command(
        after_help = "Examples:\n  sp-volume list-templates\n  sp-volume --json list-templates"
    )]
    ListTemplates,
    /// List the group snapshots and their members
    #[command(
        after_help = "Examples:\n  sp-volume list-group-snapshots\n  sp-volume --json list-group-snapshots"
    )]
    ListGroupSnapshots,
    /// Print a completion script for bash, zsh or fish
    #[command(after_help = storpool_cli::completions_examples!("sp-volume"))]
    Completions(storpool_cli::CompletionsArgs),
    /// Print the man page, or write one per command into a folder
    #[command(after_help = storpool_cli::man_examples!("sp-volume"))]
    Man(storpool_cli::ManArgs),
    /// Check this node's set-up: configuration files, the API and its token, this node's
    /// client (`SP_OURID`), the device folder, `qemu-img`, and whether the cluster is a
    /// simulator; one line per check, exit 1 when one fails
    #[command(
        after_help = "Examples:\n  sp-volume doctor\n  sp-volume --json doctor\n  sp-volume --embedded doctor"
    )]
    Doctor,
    /// Show one volume
    #[command(after_help = "Examples:\n  sp-volume show vm-1\n  sp-volume --json show vm-1")]
    Show {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
    },
    /// Create a volume from an image file (raw, qcow2, or any format qemu-img reads), or write
    /// the image into the existing volume of that id
    #[command(
        after_help = "Examples:\n  sp-volume import-image base ./cirros.qcow2\n  sp-volume import-image vm-1 ./disk.raw --image-format raw --size 20\n  sp-volume import-image db ./db.qcow2 --type-spec storpool_template=ssd --no-progress"
    )]
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
    #[command(
        after_help = "Examples:\n  sp-volume export-image vm-1 ./vm-1.raw\n  sp-volume export-image vm-1 ./vm-1.qcow2 --image-format qcow2 --force"
    )]
    ExportImage {
        /// The volume's id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// The image file to write
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The image format to write
        #[arg(
            long = "image-format",
            alias = "format",
            value_name = "FORMAT",
            value_enum,
            default_value = "raw"
        )]
        format: ExportFormat,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Show the main flow end to end: make a bootable disk image, import it, snapshot it, boot
    /// several instance volumes from the snapshot, attach one and check its bytes, show stats
    /// and the volumes, clean up. Runs on a fresh embedded simulator of its own unless
    /// `--embedded`, `--config`, `STORPOOL_EMBEDDED` or `STORPOOL_CONF` names a cluster.
    #[command(
        after_help = "Examples:\n  sp-volume demo\n  sp-volume demo --image-mib 256 --instances 10\n  sp-volume --json demo"
    )]
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

/// The whole command tree, as `--help`, completions and man pages show it.
pub(crate) fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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
    fn every_subcommand_shows_two_examples_or_more() {
        for sub in Cli::command().get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples = help
                .strip_prefix("Examples:\n")
                .unwrap_or_else(|| panic!("{}: {help}", sub.get_name()));
            let lines: Vec<&str> = examples.lines().collect();
            assert!(lines.len() >= 2, "{}: {help}", sub.get_name());
            for line in lines {
                assert!(
                    line.starts_with("  sp-volume "),
                    "{}: {line}",
                    sub.get_name()
                );
            }
        }
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
        let cli = parse(&["export-image", "v", "/tmp/x", "--image-format", "qcow2"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::ExportImage {
                format: ExportFormat::Qcow2,
                ..
            }
        ));
    }
}
