//! Everything `sp-volume` prints. stdout carries the result only: text for people, or with
//! `--json` one JSON document with stable field names (the driver's result types, serialized
//! as they are). Notices go to stderr.
#![allow(clippy::print_stderr)]

use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use storpool_cli::{Failure, emit, emit_json, json_seconds, table};
use storpool_driver_core::{
    ConnectionInfo, Deletion, GroupDeletion, GroupSnapshot, ManageableVolume, MigrationUpdate,
    RetypeOutcome, Snapshot, Stats, Template, Unmanaged, Volume,
};

use crate::demo::DemoReport;
use storpool_image::{Exported, Imported};

/// Writing the result to stdout failed (exit 1: the operation itself was done).
pub(crate) fn failed(err: io::Error) -> Failure {
    Failure::operation(anyhow::Error::new(err).context("cannot write the output"))
}

/// A remark on stderr (not data), such as which cluster is used when it is the embedded
/// simulator.
pub(crate) fn note(text: &str) {
    eprintln!("{}: {text}", crate::BIN);
}

/// A warning on stderr: `sp-volume: warning: TEXT`.
pub(crate) fn warning(text: &str) {
    storpool_cli::warning(crate::BIN, text);
}

/// The progress of a copy on stderr: a bar with bytes, rate and time left (`indicatif`),
/// drawn only when it was made `shown` (a terminal, no `--json`, `-q` or `--no-progress`),
/// from the moment the copy starts.
#[derive(Clone, Debug)]
pub(crate) struct CopyProgress {
    shown: bool,
    bar: Arc<OnceLock<indicatif::ProgressBar>>,
}

impl CopyProgress {
    pub(crate) fn new(shown: bool) -> Self {
        Self {
            shown,
            bar: Arc::new(OnceLock::new()),
        }
    }

    /// The copy starts: it covers `total_bytes`.
    pub(crate) fn start(&self, total_bytes: u64) {
        if !self.shown {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total_bytes),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(crate::BIN);
            bar
        });
        bar.set_length(total_bytes);
    }

    /// Shows `fraction` done.
    pub(crate) fn draw(&self, fraction: f64) {
        if let Some(bar) = self.bar.get() {
            let total = bar.length().unwrap_or(0);
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )] // a share of a byte count, 0.0..=1.0
            let position = (fraction.clamp(0.0, 1.0) * total as f64) as u64;
            bar.set_position(position);
        }
    }

    /// Leaves the last state of the bar on its own line, if one was drawn.
    pub(crate) fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish();
            if !bar.is_hidden() {
                eprintln!();
            }
        }
    }
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

fn limit(value: Option<u64>, unit: &str) -> String {
    value.map_or_else(|| "unlimited".to_owned(), |v| format!("{v}{unit}"))
}

/// `key  value` lines, keys padded to one width.
fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (key, value) in rows {
        let _ = writeln!(text, "{key:<width$}  {value}");
    }
    text
}

fn volume_text(volume: &Volume) -> String {
    let mut rows = vec![
        ("id", volume.id.clone()),
        ("name", volume.name.clone()),
        (
            "size",
            format!("{} GiB ({} bytes)", volume.size_gib, volume.size_bytes),
        ),
        ("template", or_dash(volume.template.as_deref()).to_owned()),
        ("replication", volume.replication.to_string()),
        ("global id", volume.global_id.clone()),
        (
            "parent",
            or_dash(volume.parent_snapshot.as_deref()).to_owned(),
        ),
        ("iops", limit(volume.iops, "")),
        ("bw", limit(volume.bw, " MiB/s")),
    ];
    if !volume.tags.is_empty() {
        let tags: Vec<String> = volume
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        rows.push(("tags", tags.join(" ")));
    }
    fields(&rows)
}

/// A volume: `key value` lines, or the driver's `Volume` as JSON.
pub(crate) fn volume(volume: &Volume, json: bool) -> io::Result<()> {
    if json {
        emit_json(volume)
    } else {
        emit(&volume_text(volume))
    }
}

/// `list --json`.
#[derive(Serialize)]
struct VolumesJson<'a> {
    volumes: &'a [Volume],
}

/// The volumes: a table, or `{"volumes": [...]}`.
pub(crate) fn volumes(volumes: &[Volume], json: bool) -> io::Result<()> {
    if json {
        return emit_json(&VolumesJson { volumes });
    }
    let rows: Vec<[String; 6]> = volumes
        .iter()
        .map(|v| {
            [
                v.id.clone(),
                v.name.clone(),
                format!("{} GiB", v.size_gib),
                v.template
                    .clone()
                    .unwrap_or_else(|| format!("- (replication {})", v.replication)),
                v.global_id.clone(),
                or_dash(v.parent_snapshot.as_deref()).to_owned(),
            ]
        })
        .collect();
    emit(&table(
        ["ID", "NAME", "SIZE", "TEMPLATE", "GLOBAL_ID", "PARENT"],
        &rows,
    ))
}

/// A delete: one line, or `{"id", "name", "existed"}`.
pub(crate) fn deletion(kind: &str, deletion: &Deletion, json: bool) -> io::Result<()> {
    if json {
        return emit_json(deletion);
    }
    emit(&if deletion.existed {
        format!("deleted {kind} `{}` ({})\n", deletion.id, deletion.name)
    } else {
        format!(
            "{kind} `{}` ({}) did not exist: nothing to delete\n",
            deletion.id, deletion.name
        )
    })
}

/// A snapshot: `key value` lines, or the driver's `Snapshot` as JSON.
pub(crate) fn snapshot(snapshot: &Snapshot, json: bool) -> io::Result<()> {
    if json {
        return emit_json(snapshot);
    }
    emit(&fields(&[
        ("id", snapshot.id.clone()),
        ("name", snapshot.name.clone()),
        ("volume", or_dash(snapshot.volume.as_deref()).to_owned()),
        (
            "size",
            format!("{} GiB ({} bytes)", snapshot.size_gib, snapshot.size_bytes),
        ),
        ("template", or_dash(snapshot.template.as_deref()).to_owned()),
        ("global id", snapshot.global_id.clone()),
    ]))
}

/// `list-snapshots --json`.
#[derive(Serialize)]
struct SnapshotsJson<'a> {
    snapshots: &'a [Snapshot],
}

/// Snapshots: a table, or `{"snapshots": [...]}`.
pub(crate) fn snapshots(snapshots: &[Snapshot], json: bool) -> io::Result<()> {
    if json {
        return emit_json(&SnapshotsJson { snapshots });
    }
    let rows: Vec<[String; 5]> = snapshots
        .iter()
        .map(|s| {
            [
                s.id.clone(),
                s.name.clone(),
                or_dash(s.volume.as_deref()).to_owned(),
                format!("{} GiB", s.size_gib),
                s.global_id.clone(),
            ]
        })
        .collect();
    emit(&table(["ID", "NAME", "VOLUME", "SIZE", "GLOBAL_ID"], &rows))
}

/// `list-group-snapshots --json`.
#[derive(Serialize)]
struct GroupSnapshotsJson<'a> {
    group_snapshots: &'a [GroupSnapshot],
}

/// Group snapshots: one row per member, or `{"group_snapshots": [...]}`.
pub(crate) fn group_snapshots(groups: &[GroupSnapshot], json: bool) -> io::Result<()> {
    if json {
        return emit_json(&GroupSnapshotsJson {
            group_snapshots: groups,
        });
    }
    let rows: Vec<[String; 5]> = groups
        .iter()
        .flat_map(|g| {
            g.snapshots.iter().map(|s| {
                [
                    g.id.clone(),
                    s.id.clone(),
                    s.name.clone(),
                    format!("{} GiB", s.size_gib),
                    s.global_id.clone(),
                ]
            })
        })
        .collect();
    emit(&table(
        ["GROUP_ID", "VOLUME_ID", "SNAPSHOT", "SIZE", "GLOBAL_ID"],
        &rows,
    ))
}

/// `list-templates --json`.
#[derive(Serialize)]
struct TemplatesJson<'a> {
    templates: &'a [Template],
}

/// Templates: a table, or `{"templates": [...]}`.
pub(crate) fn templates(templates: &[Template], json: bool) -> io::Result<()> {
    if json {
        return emit_json(&TemplatesJson { templates });
    }
    let gib = |bytes: Option<u64>| {
        #[allow(clippy::cast_precision_loss)] // a figure for people, one decimal
        bytes.map_or_else(|| "-".to_owned(), |b| format!("{:.1}", b as f64 / GIB_F64))
    };
    let rows: Vec<[String; 7]> = templates
        .iter()
        .map(|t| {
            let all = or_dash(t.place_all.as_deref());
            let tail = t.place_tail.as_deref().unwrap_or(all);
            let head = t.place_head.as_deref().unwrap_or(all);
            let placement = if tail == all && head == all {
                all.to_owned()
            } else {
                format!("all {all}, tail {tail}, head {head}")
            };
            [
                t.name.clone(),
                t.replication
                    .map_or_else(|| "-".to_owned(), |r| r.to_string()),
                placement,
                t.volumes.map_or_else(|| "-".to_owned(), |n| n.to_string()),
                gib(t.capacity_bytes),
                gib(t.free_bytes),
                gib(t.provisioned_bytes),
            ]
        })
        .collect();
    emit(&table(
        [
            "NAME",
            "REPLICATION",
            "PLACEMENT",
            "VOLUMES",
            "CAPACITY_GIB",
            "FREE_GIB",
            "PROVISIONED_GIB",
        ],
        &rows,
    ))
}

/// The doctor's checks: `STATUS  CHECK  DETAIL` lines, or `{"healthy", "checks": [...]}`.
pub(crate) fn doctor(report: &crate::doctor::Report, json: bool) -> io::Result<()> {
    if json {
        return emit_json(report);
    }
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for c in &report.checks {
        let _ = writeln!(
            text,
            "{:<4}  {:<width$}  {}",
            c.status.word(),
            c.name,
            c.detail
        );
    }
    emit(&text)
}

/// Bytes in a GiB, for figures shown with decimals.
const GIB_F64: f64 = 1_073_741_824.0;

/// A retype: one line, or `{"retyped", "refused", "changed"}`. A refusal prints nothing in
/// text (the error line says it).
pub(crate) fn retype(id: &str, outcome: &RetypeOutcome, json: bool) -> io::Result<()> {
    if json {
        return emit_json(outcome);
    }
    if !outcome.retyped {
        return Ok(());
    }
    emit(&if outcome.changed.is_empty() {
        format!("volume `{id}` already matches the new type: nothing changed\n")
    } else {
        format!(
            "retyped volume `{id}`: changed {}\n",
            outcome.changed.join(", ")
        )
    })
}

/// A finished migration: one line, or Cinder's model update `{"_name_id": ...}`.
pub(crate) fn migration(id: &str, update: &MigrationUpdate, json: bool) -> io::Result<()> {
    if json {
        return emit_json(update);
    }
    emit(&match &update.name_id {
        None => {
            format!("volume `{id}` holds the migrated data under its own name (_name_id: null)\n")
        }
        Some(name_id) => format!(
            "the migrated data of volume `{id}` stays under the name of id `{name_id}` \
             (_name_id: {name_id})\n"
        ),
    })
}

/// A group snapshot: a table of its members, or the driver's `GroupSnapshot` as JSON.
pub(crate) fn group_snapshot(group: &GroupSnapshot, json: bool) -> io::Result<()> {
    if json {
        return emit_json(group);
    }
    let rows: Vec<[String; 4]> = group
        .snapshots
        .iter()
        .map(|s| {
            [
                s.id.clone(),
                s.name.clone(),
                format!("{} GiB", s.size_gib),
                s.global_id.clone(),
            ]
        })
        .collect();
    emit(&table(
        ["VOLUME_ID", "SNAPSHOT", "SIZE", "GLOBAL_ID"],
        &rows,
    ))
}

/// A deleted group snapshot: one line, or `{"id", "deleted"}`.
pub(crate) fn group_deletion(deletion: &GroupDeletion, json: bool) -> io::Result<()> {
    if json {
        return emit_json(deletion);
    }
    emit(&format!(
        "deleted {} snapshots of group snapshot `{}`\n",
        deletion.deleted.len(),
        deletion.id
    ))
}

/// `manageable --json`.
#[derive(Serialize)]
struct ManageableJson<'a> {
    volumes: &'a [ManageableVolume],
}

/// Volumes outside the driver's names: a table, or `{"volumes": [...]}`.
pub(crate) fn manageable(volumes: &[ManageableVolume], json: bool) -> io::Result<()> {
    if json {
        return emit_json(&ManageableJson { volumes });
    }
    let rows: Vec<[String; 5]> = volumes
        .iter()
        .map(|v| {
            [
                v.name.clone(),
                format!("{} GiB", v.size_gib),
                or_dash(v.template.as_deref()).to_owned(),
                if v.safe_to_manage { "yes" } else { "no" }.to_owned(),
                or_dash(v.reason_not_safe.as_deref()).to_owned(),
            ]
        })
        .collect();
    emit(&table(
        ["NAME", "SIZE", "TEMPLATE", "SAFE", "REASON"],
        &rows,
    ))
}

/// A released volume: one line, or `{"id", "name"}`.
pub(crate) fn unmanaged(unmanaged: &Unmanaged, json: bool) -> io::Result<()> {
    if json {
        return emit_json(unmanaged);
    }
    emit(&format!(
        "volume `{}` released: it is now `{}`\n",
        unmanaged.id, unmanaged.name
    ))
}

/// Stats: the backend and a table of pools, or Cinder's stats shape as JSON.
pub(crate) fn stats(stats: &Stats, json: bool) -> io::Result<()> {
    if json {
        return emit_json(stats);
    }
    let mut text = format!(
        "backend {} ({} {}, driver {})\n",
        stats.volume_backend_name, stats.vendor_name, stats.storage_protocol, stats.driver_version
    );
    let gb = |v: f64| format!("{v:.1}");
    let rows: Vec<[String; 4]> = stats
        .pools
        .iter()
        .map(|p| {
            [
                p.pool_name.clone(),
                gb(p.total_capacity_gb),
                gb(p.free_capacity_gb),
                p.template_free_capacity_gb
                    .map_or_else(|| "-".to_owned(), gb),
            ]
        })
        .collect();
    text.push_str(&table(
        ["POOL", "TOTAL_GB", "FREE_GB", "TEMPLATE_FREE_GB"],
        &rows,
    ));
    emit(&text)
}

/// Connection info: `key value` lines, or exactly Cinder's connection info as JSON.
pub(crate) fn connection_info(info: &ConnectionInfo, json: bool) -> io::Result<()> {
    if json {
        return emit_json(info);
    }
    emit(&fields(&[
        ("driver_volume_type", info.driver_volume_type.clone()),
        ("client_id", info.data.client_id.to_string()),
        ("volume", info.data.volume.clone()),
        ("access_mode", info.data.access_mode.clone()),
    ]))
}

/// An image as the JSON documents give it.
#[derive(Serialize)]
pub(crate) struct ImageJson<'a> {
    path: &'a std::path::Path,
    format: &'a str,
    virtual_size_bytes: u64,
}

impl<'a> From<&'a storpool_image::ImageInfo> for ImageJson<'a> {
    fn from(image: &'a storpool_image::ImageInfo) -> Self {
        Self {
            path: &image.path,
            format: &image.format,
            virtual_size_bytes: image.virtual_size,
        }
    }
}

/// `import-image --json`.
#[derive(Serialize)]
struct ImportedJson<'a> {
    volume: &'a Volume,
    created: bool,
    image: ImageJson<'a>,
    device: &'a std::path::Path,
    elapsed_seconds: f64,
}

/// An import: one line, or `{"volume", "created", "image", "device", "elapsed_seconds"}`.
pub(crate) fn imported(imported: &Imported, json: bool) -> io::Result<()> {
    if json {
        return emit_json(&ImportedJson {
            volume: &imported.volume,
            created: imported.created,
            image: (&imported.image).into(),
            device: &imported.device,
            elapsed_seconds: json_seconds(imported.seconds),
        });
    }
    emit(&format!(
        "imported {} ({}, {} bytes) into {} volume `{}` ({} GiB) in {:.2} s\n",
        imported.image.path.display(),
        imported.image.format,
        imported.image.virtual_size,
        if imported.created { "new" } else { "existing" },
        imported.volume.id,
        imported.volume.size_gib,
        imported.seconds
    ))
}

/// `export-image --json`.
#[derive(Serialize)]
struct ExportedJson<'a> {
    id: &'a str,
    name: &'a str,
    file: &'a std::path::Path,
    format: storpool_image::ImageFormat,
    virtual_size_bytes: u64,
    file_size_bytes: u64,
    snapshot: &'a str,
    elapsed_seconds: f64,
}

/// An export: one line, or `{"id", "name", "file", "format", ...}`.
pub(crate) fn exported(exported: &Exported, json: bool) -> io::Result<()> {
    if json {
        return emit_json(&ExportedJson {
            id: &exported.id,
            name: &exported.name,
            file: &exported.file,
            format: exported.format,
            virtual_size_bytes: exported.virtual_size,
            file_size_bytes: exported.file_size,
            snapshot: &exported.snapshot,
            elapsed_seconds: json_seconds(exported.seconds),
        });
    }
    emit(&format!(
        "exported volume `{}` ({} bytes) to {} ({}, {} bytes) in {:.2} s\n",
        exported.id,
        exported.virtual_size,
        exported.file.display(),
        exported.format,
        exported.file_size,
        exported.seconds
    ))
}

/// The demo's first line.
pub(crate) fn demo_intro(cluster: &str) {
    let _ = emit(&format!(
        "sp-volume demo: booting instances from a volume, on {cluster}\n"
    ));
}

/// The start of a demo step: its number and what it does (the time follows on the same line).
pub(crate) fn demo_step_begin(number: usize, text: &str) {
    let _ = emit(&format!("{number:>2}. {text} ..."));
}

/// The end of a demo step: what came of it, and how long it took.
pub(crate) fn demo_step_end(detail: &str, seconds: f64) {
    let _ = emit(&if detail.is_empty() {
        format!(" {seconds:.3} s\n")
    } else {
        format!(" {detail} ({seconds:.3} s)\n")
    });
}

/// The demo's end: the total time, or the whole report as JSON.
pub(crate) fn demo_report(report: &DemoReport, json: bool) -> io::Result<()> {
    if json {
        return emit_json(report);
    }
    emit(&format!(
        "done in {:.2} s: {} bytes of an instance volume checked against the image\n",
        report.total_seconds, report.verified_bytes
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_align_their_values() {
        assert_eq!(
            fields(&[("id", "1".to_owned()), ("name", "v".to_owned())]),
            "id    1\nname  v\n"
        );
    }
}
