//! The same as `provision`, from synchronous code: `blocking::Driver` and
//! `blocking::Connector` own a current-thread Tokio runtime each, so `main` needs none.
//!
//! `cargo run -p storpool-examples --example blocking`
#![allow(clippy::print_stdout)]

use storpool_driver_core::{Specs, SpecsExt as _};
use storpool_examples::{Setup, provision_instances_blocking};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setup = Setup::new()?;
    let driver = storpool_driver_core::blocking::Driver::from_async(setup.driver)?;
    let connector = storpool_attach::blocking::Connector::from_async(setup.connector)?;

    let ssd = Specs::from_pairs([("storpool_template", "ssd")]);
    driver.create_volume("example-golden", 1, &ssd)?;
    driver.create_snapshot("example-golden", "example-golden-1")?;
    let ids = ["example-vm-1", "example-vm-2"];
    for volume in
        provision_instances_blocking(&driver, &connector, "example-golden-1", &ids, 2, &ssd)?
    {
        println!("provisioned {} ({} GiB)", volume.name, volume.size_gib);
    }
    for id in ids.iter().chain(["example-golden"].iter()) {
        driver.delete_volume(id)?;
    }
    driver.delete_snapshot("example-golden-1")?;
    println!("cleaned up");
    Ok(())
}
