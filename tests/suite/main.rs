//! Workspace-level reliability suites: the driver and the attach connector together against
//! one simulator, under injected faults and under concurrency. Each test is bounded (seconds).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod binaries;
mod blocking;
mod concurrency;
mod faults;
mod help;
mod public_api;
mod readme;

use storpool_driver_core::Specs;

/// The volume-type specs naming `template`.
pub(crate) fn template(template: &str) -> Specs {
    Specs::from([("storpool_template".to_owned(), template.to_owned())])
}
