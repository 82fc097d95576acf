//! The async driver and connector: a golden volume with a snapshot, three instance volumes
//! from it, each attached here, written and detached; then everything is deleted.
//!
//! `cargo run -p storpool-examples --example provision` (an in-process simulator), or with
//! `STORPOOL_CONF=/etc/storpool.conf` against a real cluster from a node running
//! `storpool_block`.
#![allow(clippy::print_stdout)]

use storpool_driver_core::{Specs, SpecsExt as _};
use storpool_examples::{Setup, provision_instances};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Setup {
        sim,
        driver,
        connector,
    } = Setup::new()?;
    match &sim {
        Some(sim) => println!("an in-process simulator at {}", sim.base_url()),
        None => println!("the cluster of STORPOOL_CONF"),
    }

    let ssd = Specs::from_pairs([("storpool_template", "ssd")]);
    let golden = driver.create_volume("example-golden", 1, &ssd).await?;
    println!("created {} ({})", golden.name, golden.global_id);
    driver
        .create_snapshot("example-golden", "example-golden-1")
        .await?;

    let ids = ["example-vm-1", "example-vm-2", "example-vm-3"];
    let volumes =
        provision_instances(&driver, &connector, "example-golden-1", &ids, 2, &ssd).await?;
    for volume in &volumes {
        println!("provisioned {} ({} GiB)", volume.name, volume.size_gib);
    }

    for id in ids.iter().chain(["example-golden"].iter()) {
        driver.delete_volume(id).await?;
    }
    driver.delete_snapshot("example-golden-1").await?;
    println!("cleaned up");
    Ok(())
}
