//! `sp-volume demo`: the boot-from-volume flow end to end, through the same functions the
//! other subcommands call, timing each step.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use storpool_attach::{AccessMode, DetachOptions, Target};
use storpool_cli::Failure;
use storpool_driver_core::{Stats, Volume};
use storpool_image::{ConvertRequest, ImageFormat, ImageInfo, ImportRequest};

use crate::image;
use crate::output;
use crate::settings::{Ctx, attach_failure, driver_failure};

/// Bytes in a MiB.
const MIB: u64 = 1 << 20;

/// The size of the buffers comparing the device with the image.
const CHUNK: usize = 1 << 20;

/// The sector size of the disk image.
const SECTOR: u64 = 512;

/// The first sector of the disk image's partition (1 MiB, as partitioning tools align it).
const PARTITION_START: u64 = 2048;

/// The message the boot sector prints.
pub(crate) const BOOT_MESSAGE: &str = "storpool-rs demo: booted from a StorPool volume\r\n";

/// 16-bit real-mode code at 0x7C00: set up segments and stack, print the message at 0x7C21
/// with BIOS teletype output (`int 0x10`, `ah = 0x0E`), then halt for ever.
const BOOT_CODE: [u8; 33] = [
    0xFA, // cli
    0x31, 0xC0, // xor ax, ax
    0x8E, 0xD8, // mov ds, ax
    0x8E, 0xD0, // mov ss, ax
    0xBC, 0x00, 0x7C, // mov sp, 0x7C00
    0xFB, // sti
    0xBE, 0x21, 0x7C, // mov si, 0x7C21 (the message, right after this code)
    0xFC, // cld
    0xAC, // .print: lodsb
    0x08, 0xC0, // or al, al
    0x74, 0x09, // jz .halt
    0xB4, 0x0E, // mov ah, 0x0E
    0xBB, 0x07, 0x00, // mov bx, 0x0007
    0xCD, 0x10, // int 0x10
    0xEB, 0xF2, // jmp .print
    0xFA, // .halt: cli
    0xF4, // hlt
    0xEB, 0xFC, // jmp .halt
];

/// One timed step.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Step {
    /// What was done.
    pub(crate) step: String,
    /// How long it took (to the millisecond in JSON).
    #[serde(rename = "elapsed_seconds", serialize_with = "milliseconds")]
    pub(crate) seconds: f64,
}

/// Seconds as the JSON documents give them ([`storpool_cli::json_seconds`]).
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn milliseconds<S: serde::Serializer>(seconds: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(storpool_cli::json_seconds(*seconds))
}

/// The demo's image as JSON: `virtual_size_bytes`.
fn image_json<S: serde::Serializer>(image: &ImageInfo, serializer: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&crate::output::ImageJson::from(image), serializer)
}

/// What the demo did.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct DemoReport {
    /// The cluster it ran on (a storpool.conf, or the embedded simulator's folder).
    pub(crate) cluster_source: String,
    /// The image it made and imported.
    #[serde(serialize_with = "image_json")]
    pub(crate) image: ImageInfo,
    /// The steps, in order.
    pub(crate) steps: Vec<Step>,
    /// How many bytes of the instance volume were checked against the image.
    pub(crate) verified_bytes: u64,
    /// The stats in the middle of the run.
    pub(crate) stats: Stats,
    /// The volumes in the middle of the run.
    pub(crate) volumes: Vec<Volume>,
    /// The whole run.
    #[serde(serialize_with = "milliseconds")]
    pub(crate) total_seconds: f64,
}

/// Prints and records steps.
struct Steps {
    json: bool,
    done: Vec<Step>,
    started: Instant,
}

impl Steps {
    fn begin(&self, text: &str) {
        if !self.json {
            output::demo_step_begin(self.done.len() + 1, text);
        }
    }

    /// Ends the step begun with `text`; `detail` says what came of it.
    fn end(&mut self, text: &str, detail: &str, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        if !self.json {
            output::demo_step_end(detail, seconds);
        }
        self.done.push(Step {
            step: if detail.is_empty() {
                text.to_owned()
            } else {
                format!("{text}: {detail}")
            },
            seconds,
        });
    }
}

/// What exists on the cluster so far, to clean up whatever happens.
#[derive(Default)]
struct Made {
    volumes: Vec<String>,
    snapshot: Option<String>,
    attached: Option<String>,
}

/// Runs the demo on the context's cluster.
pub(crate) async fn run(ctx: &Ctx, image_mib: u64, instances: u32) -> Result<DemoReport, Failure> {
    let mut steps = Steps {
        json: ctx.settings.json,
        done: Vec::new(),
        started: Instant::now(),
    };
    if !steps.json {
        output::demo_intro(ctx.cluster.source());
    }
    let work = tempfile::Builder::new()
        .prefix("sp-volume-demo-")
        .tempdir()
        .map_err(|err| {
            Failure::usage(anyhow::Error::new(err).context("cannot make a temporary folder"))
        })?;
    let mut made = Made::default();
    let result = flow(
        ctx,
        &mut steps,
        &mut made,
        work.path(),
        image_mib,
        instances,
    )
    .await;
    if result.is_err() {
        clean_up(ctx, &made).await;
    }
    result
}

#[allow(clippy::too_many_lines)] // one story, step by step
async fn flow(
    ctx: &Ctx,
    steps: &mut Steps,
    made: &mut Made,
    work: &Path,
    image_mib: u64,
    instances: u32,
) -> Result<DemoReport, Failure> {
    let run = unique_suffix();
    let base_id = format!("demo-{run}-image");
    let snapshot_id = format!("demo-{run}-golden");
    let vm_ids: Vec<String> = (1..=instances)
        .map(|n| format!("demo-{run}-vm-{n}"))
        .collect();

    // 1. A bootable disk image.
    let raw = work.join("disk.raw");
    let text =
        format!("make a bootable {image_mib} MiB disk image (MBR boot sector, one partition)");
    steps.begin(&text);
    let started = Instant::now();
    let data = write_boot_disk(&raw, image_mib * MIB).map_err(|err| {
        Failure::usage(anyhow::Error::new(err).context(format!("cannot write {}", raw.display())))
    })?;
    steps.end(&text, &format!("{} KiB of data", data / 1024), started);

    // 2. As qcow2, the format images are usually shipped in.
    let qcow2 = work.join("disk.qcow2");
    let text = "convert it to qcow2 with qemu-img".to_owned();
    steps.begin(&text);
    let started = Instant::now();
    let mut convert = ConvertRequest::new(&raw, &qcow2, ImageFormat::Qcow2);
    convert.source_format = Some("raw".to_owned());
    let (options, _) = image::copy_options(ctx);
    let converted = storpool_image::convert(&convert, &options)
        .await
        .map_err(image::failure)?;
    steps.end(
        &text,
        &format!("{} KiB", converted.file_size / 1024),
        started,
    );

    // 3. Import: what `sp-volume import-image` does.
    let text = format!("import it into volume `{base_id}` (attach, qemu-img convert, detach)");
    steps.begin(&text);
    let started = Instant::now();
    let mut request = ImportRequest::new(&base_id, &qcow2);
    request.image_format = Some("qcow2".to_owned());
    let (options, line) = image::copy_options(ctx);
    let imported = image::images(ctx)?.import(&request, &options).await;
    line.finish();
    let imported = imported.map_err(image::failure)?;
    made.volumes.push(base_id.clone());
    steps.end(
        &text,
        &format!(
            "{} GiB, {} bytes",
            imported.volume.size_gib, imported.image.virtual_size
        ),
        started,
    );

    // 4. The golden snapshot.
    let text = format!("snapshot it as `{snapshot_id}`");
    steps.begin(&text);
    let started = Instant::now();
    // Recorded first: a step cut short by a signal may have made it.
    made.snapshot = Some(snapshot_id.clone());
    step(ctx, &text, async {
        ctx.driver
            .create_snapshot(&base_id, &snapshot_id)
            .await
            .map_err(driver_failure)
    })
    .await?;
    steps.end(&text, "", started);

    // 5. One root volume per instance, thin children of the snapshot.
    let text = format!("create {instances} instance root volumes from the snapshot");
    steps.begin(&text);
    let started = Instant::now();
    for id in &vm_ids {
        made.volumes.push(id.clone());
        step(ctx, &text, async {
            ctx.driver
                .create_volume_from_snapshot(
                    id,
                    &snapshot_id,
                    imported.volume.size_gib,
                    &storpool_driver_core::Specs::new(),
                )
                .await
                .map_err(driver_failure)
        })
        .await?;
    }
    steps.end(&text, &vm_ids.join(", "), started);

    // 6. Boot one: attach it here and check that it holds the image, byte for byte.
    let vm = &vm_ids[0];
    let connector = ctx.connector()?;
    let text = format!("attach `{vm}` on this node");
    steps.begin(&text);
    let started = Instant::now();
    made.attached = Some(vm.clone());
    let attached = step(ctx, &text, async {
        connector
            .connect(&Target::volume(vm), AccessMode::Rw)
            .await
            .map_err(attach_failure)
    })
    .await?;
    steps.end(&text, &attached.path.display().to_string(), started);

    let text = "verify its bytes match the image".to_owned();
    steps.begin(&text);
    let started = Instant::now();
    let (device, disk) = (attached.path.clone(), raw.clone());
    let verified = step(ctx, &text, async {
        tokio::task::spawn_blocking(move || compare(&device, &disk))
            .await
            .map_err(|err| Failure::operation(anyhow::Error::new(err)))?
    })
    .await?;
    steps.end(
        &text,
        &format!("{verified} bytes equal, boot signature 0x55AA in place"),
        started,
    );

    let text = format!("detach `{vm}`");
    steps.begin(&text);
    let started = Instant::now();
    step(ctx, &text, async {
        connector
            .disconnect(&Target::volume(vm), DetachOptions::default())
            .await
            .map_err(attach_failure)
    })
    .await?;
    made.attached = None;
    steps.end(&text, "", started);

    // 7. What the cluster says now.
    let text = "stats".to_owned();
    steps.begin(&text);
    let started = Instant::now();
    let stats = step(ctx, &text, async {
        ctx.driver.stats().await.map_err(driver_failure)
    })
    .await?;
    steps.end(&text, "", started);
    if !steps.json {
        output::stats(&stats, false).map_err(output::failed)?;
    }
    let text = "list".to_owned();
    steps.begin(&text);
    let started = Instant::now();
    let volumes = step(ctx, &text, async {
        ctx.driver.list_volumes().await.map_err(driver_failure)
    })
    .await?;
    steps.end(&text, "", started);
    if !steps.json {
        output::volumes(&volumes, false).map_err(output::failed)?;
    }

    // 8. Clean up.
    let text = format!(
        "clean up: delete {} volumes and the snapshot",
        made.volumes.len()
    );
    steps.begin(&text);
    let started = Instant::now();
    step(ctx, &text, async {
        for id in made.volumes.iter().rev() {
            ctx.driver.delete_volume(id).await.map_err(driver_failure)?;
        }
        ctx.driver
            .delete_snapshot(&snapshot_id)
            .await
            .map_err(driver_failure)
    })
    .await?;
    *made = Made::default();
    steps.end(&text, "", started);

    Ok(DemoReport {
        cluster_source: ctx.cluster.source().to_owned(),
        image: imported.image,
        steps: std::mem::take(&mut steps.done),
        verified_bytes: verified,
        stats,
        volumes,
        total_seconds: steps.started.elapsed().as_secs_f64(),
    })
}

/// Runs one step of the demo, unless a signal stops the command first: then the step fails
/// as interrupted, and the demo's cleanup runs.
async fn step<T>(
    ctx: &Ctx,
    text: &str,
    work: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    let work = Box::pin(work);
    tokio::select! {
        biased;
        () = ctx.cancel.cancelled() => Err(Failure::operation(anyhow::anyhow!(
            "the demo was interrupted at the step `{text}`"
        ))),
        out = work => out,
    }
}

/// A short suffix that makes the demo's names unique.
fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id(), nanos)
}

/// Best effort after a failure: detach, delete what the demo made.
async fn clean_up(ctx: &Ctx, made: &Made) {
    if let Some(id) = &made.attached
        && let Ok(connector) = ctx.connector()
        && let Err(err) = connector
            .disconnect(&Target::volume(id), DetachOptions::default())
            .await
    {
        tracing::warn!(volume = %id, error = %err, "demo clean-up: detach failed");
    }
    for id in made.volumes.iter().rev() {
        if let Err(err) = ctx.driver.delete_volume(id).await {
            tracing::warn!(volume = %id, error = %err, "demo clean-up: delete failed");
        }
    }
    if let Some(id) = &made.snapshot
        && let Err(err) = ctx.driver.delete_snapshot(id).await
    {
        tracing::warn!(snapshot = %id, error = %err, "demo clean-up: delete failed");
    }
}

/// Checks that `device` starts with the bytes of `disk` and carries the boot signature;
/// returns how many bytes were compared.
fn compare(device: &Path, disk: &Path) -> Result<u64, Failure> {
    let open = |path: &Path| {
        File::open(path).map_err(|err| {
            Failure::operation(
                anyhow::Error::new(err).context(format!("cannot read {}", path.display())),
            )
        })
    };
    let (mut device_file, mut disk_file) = (open(device)?, open(disk)?);
    let mut a = vec![0; CHUNK];
    let mut b = vec![0; CHUNK];
    let mut offset = 0u64;
    loop {
        let n = read_full(&mut disk_file, &mut b).map_err(|err| {
            Failure::operation(
                anyhow::Error::new(err).context(format!("cannot read {}", disk.display())),
            )
        })?;
        if n == 0 {
            break;
        }
        let m = read_full(&mut device_file, &mut a[..n]).map_err(|err| {
            Failure::operation(
                anyhow::Error::new(err).context(format!("cannot read {}", device.display())),
            )
        })?;
        if m < n || a[..n] != b[..n] {
            let at = a[..m]
                .iter()
                .zip(&b[..n])
                .position(|(x, y)| x != y)
                .unwrap_or(m);
            return Err(Failure::operation(anyhow::anyhow!(
                "the volume's device {} differs from the image at byte {}",
                device.display(),
                offset + at as u64
            )));
        }
        offset += n as u64;
    }
    let mut signature = [0u8; 2];
    device_file
        .seek(SeekFrom::Start(510))
        .and_then(|_| device_file.read_exact(&mut signature))
        .map_err(|err| Failure::operation(anyhow::Error::new(err)))?;
    if signature != [0x55, 0xAA] {
        return Err(Failure::operation(anyhow::anyhow!(
            "the volume's device {} has no boot signature",
            device.display()
        )));
    }
    Ok(offset)
}

/// Reads until `buf` is full or the end of the file; returns how much was read.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// A CHS address as the partition table stores it (saturated beyond cylinder 1023), for a
/// geometry of 255 heads and 63 sectors per track.
fn chs(lba: u64) -> [u8; 3] {
    const HEADS: u64 = 255;
    const SECTORS: u64 = 63;
    let cylinder = lba / (HEADS * SECTORS);
    if cylinder > 1023 {
        return [0xFE, 0xFF, 0xFF];
    }
    let head = (lba / SECTORS) % HEADS;
    let sector = lba % SECTORS + 1;
    // All three fit their fields by construction.
    #[allow(clippy::cast_possible_truncation)]
    [
        head as u8,
        (sector as u8) | (((cylinder >> 2) & 0xC0) as u8),
        (cylinder & 0xFF) as u8,
    ]
}

/// The master boot record: boot code, message, disk signature, one bootable Linux partition
/// from 1 MiB to the end of a disk of `sectors` sectors, and the 0x55AA signature.
pub(crate) fn boot_sector(sectors: u64) -> [u8; 512] {
    let mut mbr = [0u8; 512];
    mbr[..BOOT_CODE.len()].copy_from_slice(&BOOT_CODE);
    let message = BOOT_MESSAGE.as_bytes();
    mbr[BOOT_CODE.len()..BOOT_CODE.len() + message.len()].copy_from_slice(message);
    // Disk signature.
    mbr[440..444].copy_from_slice(&0x5350_5253_u32.to_le_bytes());
    let last = sectors - 1;
    let length = u32::try_from(sectors - PARTITION_START).unwrap_or(u32::MAX);
    let entry = &mut mbr[446..462];
    entry[0] = 0x80; // bootable
    entry[1..4].copy_from_slice(&chs(PARTITION_START));
    entry[4] = 0x83; // Linux
    entry[5..8].copy_from_slice(&chs(last));
    entry[8..12].copy_from_slice(&u32::try_from(PARTITION_START).unwrap_or(0).to_le_bytes());
    entry[12..16].copy_from_slice(&length.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    mbr
}

/// Writes a sparse raw disk of `size` bytes: the boot sector, and in its partition a few
/// regions of data (a header, then blocks at a quarter, half and three quarters) with holes
/// between them. Returns the bytes of data written.
pub(crate) fn write_boot_disk(path: &Path, size: u64) -> io::Result<u64> {
    let mut file = File::create(path)?;
    file.set_len(size)?;
    file.write_all(&boot_sector(size / SECTOR))?;
    let start = PARTITION_START * SECTOR;
    let length = size.saturating_sub(start);
    let mut written = SECTOR;
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for (at, len) in [
        (0, 64 * 1024),
        (length / 4, 256 * 1024),
        (length / 2, 256 * 1024),
        (length * 3 / 4, 256 * 1024),
    ] {
        let len = len.min(length.saturating_sub(at));
        let mut block = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        while (block.len() as u64) < len {
            // xorshift64: deterministic, incompressible-looking data.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            block.extend_from_slice(&state.to_le_bytes());
        }
        block.truncate(usize::try_from(len).unwrap_or(0));
        file.seek(SeekFrom::Start(start + at))?;
        file.write_all(&block)?;
        written += len;
    }
    file.sync_all()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boot_sector_is_a_valid_mbr_with_one_bootable_partition() {
        let sectors = 64 * MIB / SECTOR;
        let mbr = boot_sector(sectors);
        assert_eq!(&mbr[510..], &[0x55, 0xAA]);
        assert_eq!(mbr[0], 0xFA, "starts with code");
        // The message sits where `mov si` points (0x7C21 - 0x7C00 = 33) and ends with NUL.
        assert_eq!(u16::from_le_bytes([mbr[12], mbr[13]]), 0x7C00 + 33);
        let message = &mbr[33..33 + BOOT_MESSAGE.len()];
        assert_eq!(message, BOOT_MESSAGE.as_bytes());
        assert_eq!(mbr[33 + BOOT_MESSAGE.len()], 0);
        assert!(
            33 + BOOT_MESSAGE.len() < 440,
            "code and message fit before the signature"
        );
        let entry = &mbr[446..462];
        assert_eq!(entry[0], 0x80);
        assert_eq!(entry[4], 0x83);
        assert_eq!(u32::from_le_bytes(entry[8..12].try_into().unwrap()), 2048);
        assert_eq!(
            u64::from(u32::from_le_bytes(entry[12..16].try_into().unwrap())),
            sectors - 2048
        );
        // LBA 2048 is cylinder 0, head 32, sector 33 in the 255/63 geometry.
        assert_eq!(&entry[1..4], &[32, 33, 0]);
        assert!(mbr[462..510].iter().all(|b| *b == 0), "one entry only");
    }

    #[test]
    fn chs_saturates_beyond_cylinder_1023() {
        assert_eq!(chs(0), [0, 1, 0]);
        assert_eq!(chs(255 * 63), [0, 1, 1]);
        assert_eq!(chs(1024 * 255 * 63), [0xFE, 0xFF, 0xFF]);
    }

    #[test]
    fn the_disk_is_sparse_and_holds_data_in_its_partition() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.raw");
        let written = write_boot_disk(&path, 4 * MIB).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 4 * MIB);
        assert!(written > 512 && written < 2 * MIB, "{written}");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[510..512], &[0x55, 0xAA]);
        assert!(bytes[1 << 20..(1 << 20) + 64].iter().any(|b| *b != 0));
        assert!(
            bytes[512..1 << 20].iter().all(|b| *b == 0),
            "a hole before the partition"
        );
        // Deterministic.
        let again = dir.path().join("e.raw");
        write_boot_disk(&again, 4 * MIB).unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), bytes);
        // Even the smallest disk has room for the partition's first MiB.
        write_boot_disk(&dir.path().join("f.raw"), 2 * MIB).unwrap();
    }

    #[test]
    fn compare_finds_the_first_differing_byte() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("d.raw");
        write_boot_disk(&disk, 2 * MIB).unwrap();
        let device = dir.path().join("dev");
        let mut bytes = std::fs::read(&disk).unwrap();
        bytes.resize(3 * CHUNK, 0);
        std::fs::write(&device, &bytes).unwrap();
        assert_eq!(compare(&device, &disk).unwrap(), 2 * MIB);
        bytes[(1 << 20) + 5] ^= 1;
        std::fs::write(&device, &bytes).unwrap();
        let failure = compare(&device, &disk).unwrap_err();
        assert!(
            failure
                .render("x", false)
                .contains(&format!("at byte {}", (1 << 20) + 5)),
            "{}",
            failure.render("x", false)
        );
    }
}
