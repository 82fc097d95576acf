//! Pure entry points into the response decoding, for the fuzz target
//! (`fuzz/fuzz_targets/api_decode.rs`), the suite's fixed-iteration run of the same property
//! and the benchmarks: the status and bytes of an answer in, what a call returns out, through
//! exactly the code every call uses. No HTTP.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Instant;

use serde::de::DeserializeOwned;

use crate::client::{Decoder, answer, decode};
use crate::error::ApiError;
use crate::listing::{decode_in_parts, decode_listing};
use crate::models::{
    ApiOk, Attachment, ClientConfigStatus, ClusterStatus, DiskDescription, DiskSummary,
    GroupSnapshotCreated, One, PlacementGroup, SnapshotCreated, SnapshotDescription, SnapshotInfo,
    SnapshotSpace, SnapshotSummary, Template, TemplateStatus, VolumeCreated, VolumeDescription,
    VolumeInfo, VolumeSpace, VolumeStatus, VolumeSummary,
};

/// What a call whose answer's `data` is a `T` returns for this answer (first attempt).
/// A status outside `100..=999`, which no HTTP stack delivers, is clamped into that range.
pub fn decode_response<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, ApiError> {
    first_attempt(decode::<T>, status, body)
}

/// What a listing call (`VolumesList`, `SnapshotsList`, their `Space` calls,
/// `AttachmentsList`) returns for this answer (first attempt): on several threads when the
/// answer is big.
pub fn decode_listing_response<T: DeserializeOwned + Send>(
    status: u16,
    body: &[u8],
) -> Result<Vec<T>, ApiError> {
    first_attempt(decode_listing::<T>, status, body)
}

/// [`answer`] of the first attempt of a call, with the status clamped.
fn first_attempt<T>(decoder: Decoder<T>, status: u16, body: &[u8]) -> Result<T, ApiError> {
    answer(
        decoder,
        status_code(status),
        body,
        || "GET /ctrl/1.0/Fuzz".to_owned(),
        1,
        Instant::now(),
    )
}

/// What [`crate::Client::raw_sonic`] returns for this answer (first attempt).
#[cfg(feature = "sonic")]
pub fn decode_sonic_response(status: u16, body: &[u8]) -> Result<sonic_rs::Value, ApiError> {
    decode_response::<crate::client::SonicData>(status, body).map(|data| data.0)
}

/// The same for the calls that answer a one-element array and return the element
/// (`Volume/NAME`, `Snapshot/NAME`).
pub fn decode_single_response<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
) -> Result<T, ApiError> {
    decode_response::<One<T>>(status, body).map(|One(item)| item)
}

fn status_code(status: u16) -> u16 {
    status.clamp(100, 999)
}

/// Decodes the answer as the response of every modelled call and checks what came out (the
/// fuzz property). Returns a description of the first broken rule:
///
/// - a status other than 200 is always an error;
/// - a success comes only from a JSON object with a `data` member and no `error` member;
/// - an API error keeps the status, has a non-empty name, and the server's name when the body
///   carried one;
/// - a decode error's excerpt is short and on one line;
/// - nothing else (transport, timeout, ...) can come out of decoding;
/// - a listing decoded in parts (as big ones are) is exactly what it is on one thread.
///
/// Panics (the other way to fail) are left to propagate.
pub fn decode_all(status: u16, body: &[u8]) -> Result<(), String> {
    let shapes: &[(&str, Shape)] = &[
        ("VolumesList", check_listing::<VolumeSummary>),
        ("Volume/NAME", check_single::<VolumeSummary>),
        ("VolumeDescribe", check::<VolumeDescription>),
        ("VolumeGetInfo", check::<VolumeInfo>),
        ("VolumesGetStatus", check::<BTreeMap<String, VolumeStatus>>),
        ("VolumesSpace", check_listing::<VolumeSpace>),
        ("VolumeCreate", check::<VolumeCreated>),
        ("ApiOk", check::<ApiOk>),
        ("SnapshotsList", check_listing::<SnapshotSummary>),
        ("Snapshot/NAME", check_single::<SnapshotSummary>),
        ("SnapshotDescribe", check::<SnapshotDescription>),
        ("SnapshotGetInfo", check::<SnapshotInfo>),
        ("SnapshotsSpace", check_listing::<SnapshotSpace>),
        ("VolumeSnapshot", check::<SnapshotCreated>),
        ("VolumesGroupSnapshot", check::<GroupSnapshotCreated>),
        ("AttachmentsList", check_listing::<Attachment>),
        ("VolumeTemplatesList", check::<Vec<Template>>),
        ("VolumeTemplatesStatus", check::<Vec<TemplateStatus>>),
        ("VolumeTemplateDescribe", check::<Template>),
        ("DisksList", check::<BTreeMap<u32, DiskSummary>>),
        ("DiskDescribe", check::<DiskDescription>),
        (
            "PlacementGroupsList",
            check::<BTreeMap<String, PlacementGroup>>,
        ),
        ("PlacementGroupDescribe", check::<PlacementGroup>),
        ("ServicesList", check::<ClusterStatus>),
        ("ClientsConfigDump", check::<Vec<ClientConfigStatus>>),
        ("raw", check::<serde_json::Value>),
        #[cfg(feature = "sonic")]
        ("raw_sonic", check::<crate::client::SonicData>),
    ];
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    for (call, shape) in shapes {
        shape(status, body, parsed.as_ref()).map_err(|e| format!("{call}: {e}"))?;
    }
    parts_agree(status, body)
}

/// Decoding a successful answer in 2 to 4 parts gives nothing or what the one-thread path
/// gives.
fn parts_agree(status: u16, body: &[u8]) -> Result<(), String> {
    let (200, Ok(text)) = (status, std::str::from_utf8(body)) else {
        return Ok(());
    };
    let mut one = None;
    for parts in 2..=4 {
        if let Some(items) = decode_in_parts::<serde_json::Value>(text, parts, 2) {
            let one =
                one.get_or_insert_with(|| decode_response::<Vec<serde_json::Value>>(status, body));
            if one.as_ref().ok() != Some(&items) {
                return Err(format!(
                    "in {parts} parts: {items:?}, on one thread: {one:?}"
                ));
            }
        }
    }
    Ok(())
}

type Shape = fn(u16, &[u8], Option<&serde_json::Value>) -> Result<(), String>;

fn check<T: DeserializeOwned + Debug>(
    status: u16,
    body: &[u8],
    parsed: Option<&serde_json::Value>,
) -> Result<(), String> {
    verify(status, parsed, decode_response::<T>(status, body))
}

fn check_listing<T: DeserializeOwned + Debug + Send>(
    status: u16,
    body: &[u8],
    parsed: Option<&serde_json::Value>,
) -> Result<(), String> {
    verify(status, parsed, decode_listing_response::<T>(status, body))
}

fn check_single<T: DeserializeOwned + Debug>(
    status: u16,
    body: &[u8],
    parsed: Option<&serde_json::Value>,
) -> Result<(), String> {
    verify(status, parsed, decode_single_response::<T>(status, body))
}

fn verify<T: Debug>(
    status: u16,
    parsed: Option<&serde_json::Value>,
    result: Result<T, ApiError>,
) -> Result<(), String> {
    let error_member = parsed.and_then(|v| v.get("error")).filter(|e| !e.is_null());
    match result {
        Ok(value) => {
            if status != 200 {
                return Err(format!("HTTP {status} decoded as success: {value:?}"));
            }
            // (`None`: beyond what a `Value` can hold, e.g. nested too deeply where the typed
            // decoding skipped it.)
            match parsed {
                Some(v) if v.get("data").is_none() || error_member.is_some() => Err(format!(
                    "success from a body without `data` or with `error`: {value:?}"
                )),
                _ => Ok(()),
            }
        }
        Err(ApiError::Server(e)) => {
            let expected = status_code(status);
            if e.status != expected {
                return Err(format!("status {} instead of {expected}", e.status));
            }
            if e.name.is_empty() {
                return Err("an API error without a name".to_owned());
            }
            match error_member
                .and_then(|err| err.get("name"))
                .and_then(|n| n.as_str())
            {
                Some(name) if name != e.name => Err(format!("name {} instead of {name}", e.name)),
                _ => Ok(()),
            }
        }
        Err(ApiError::Decode { excerpt, .. }) => {
            if excerpt.chars().count() > 201 || excerpt.chars().any(char::is_control) {
                Err(format!("bad excerpt {excerpt:?}"))
            } else {
                Ok(())
            }
        }
        Err(other) => Err(format!("decoding gave an unexpected error: {other}")),
    }
}
