//! os-brick-style connection data: what the volume driver hands to the compute node.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use storpool_api::ClientId;

use crate::error::AttachError;
use crate::target::AccessMode;

/// The `driver_volume_type` of StorPool connection info.
pub const DRIVER_VOLUME_TYPE: &str = "storpool";

/// The `data` member of the driver's connection info (`{"client_id": 3, "volume": "ID",
/// "access_mode": "rw"}`), plus `device_path` for a disconnect.
///
/// Parsing checks every member that is present and keeps the absent ones as `None`; an
/// operation that needs a missing one fails with [`AttachError::MissingField`] naming it.
/// Members this type does not know are ignored (drivers add their own).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionProperties {
    /// `client_id`: the StorPool client id of the node the driver prepared the connection
    /// for (a number or a decimal string, 1..4095).
    pub client_id: Option<ClientId>,
    /// `volume`: the orchestrator's volume id (a string; a non-negative integer is taken as
    /// its decimal form).
    pub volume: Option<String>,
    /// `access_mode`: `rw` or `ro`.
    pub access_mode: Option<AccessMode>,
    /// `device_path`: the device to disconnect.
    pub device_path: Option<PathBuf>,
}

fn json_text(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let short: String = text.chars().take(77).collect();
        format!("{short}...")
    } else {
        text
    }
}

fn invalid(field: &'static str, value: &Value, reason: impl Into<String>) -> AttachError {
    AttachError::InvalidField {
        field,
        value: json_text(value),
        reason: reason.into(),
    }
}

impl ConnectionProperties {
    /// Parses the `data` object of the connection info.
    pub fn from_json(data: &Value) -> Result<Self, AttachError> {
        let Value::Object(map) = data else {
            return Err(invalid("data", data, "expected a JSON object"));
        };
        // `null` is treated as absent, as the Python code's `.get()` does.
        let member = |name: &str| map.get(name).filter(|v| !v.is_null());
        let client_id = member("client_id")
            .map(|value| {
                let id = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                };
                id.and_then(|id| ClientId::new(id).ok()).ok_or_else(|| {
                    invalid(
                        "client_id",
                        value,
                        "expected a StorPool client id, an integer 1..4095",
                    )
                })
            })
            .transpose()?;
        let volume = member("volume")
            .map(|value| match value {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                Value::Number(n) if n.is_u64() => Ok(n.to_string()),
                _ => Err(invalid("volume", value, "expected a non-empty volume id")),
            })
            .transpose()?;
        let access_mode = member("access_mode")
            .map(|value| match value {
                Value::String(s) => s
                    .parse::<AccessMode>()
                    .map_err(|_| invalid("access_mode", value, "expected `rw` or `ro`")),
                _ => Err(invalid("access_mode", value, "expected `rw` or `ro`")),
            })
            .transpose()?;
        let device_path = member("device_path")
            .map(|value| match value {
                Value::String(s) if !s.is_empty() => Ok(PathBuf::from(s)),
                _ => Err(invalid("device_path", value, "expected a device path")),
            })
            .transpose()?;
        Ok(Self {
            client_id,
            volume,
            access_mode,
            device_path,
        })
    }

    /// Parses whole connection info, `{"driver_volume_type": "storpool", "data": {...}}`.
    pub fn from_connection_info(info: &Value) -> Result<Self, AttachError> {
        let kind = info
            .get("driver_volume_type")
            .ok_or(AttachError::MissingField {
                field: "driver_volume_type",
            })?;
        if kind.as_str() != Some(DRIVER_VOLUME_TYPE) {
            return Err(invalid(
                "driver_volume_type",
                kind,
                format!("expected `{DRIVER_VOLUME_TYPE}`"),
            ));
        }
        let data = info
            .get("data")
            .ok_or(AttachError::MissingField { field: "data" })?;
        Self::from_json(data)
    }

    /// `client_id`, or [`AttachError::MissingField`].
    pub fn require_client_id(&self) -> Result<ClientId, AttachError> {
        self.client_id
            .ok_or(AttachError::MissingField { field: "client_id" })
    }

    /// `volume`, or [`AttachError::MissingField`].
    pub fn require_volume(&self) -> Result<&str, AttachError> {
        self.volume
            .as_deref()
            .ok_or(AttachError::MissingField { field: "volume" })
    }

    /// `access_mode`, or [`AttachError::MissingField`].
    pub fn require_access_mode(&self) -> Result<AccessMode, AttachError> {
        self.access_mode.ok_or(AttachError::MissingField {
            field: "access_mode",
        })
    }
}

/// What a connect returns in os-brick's shape: `{"type": "block", "path": "/dev/storpool-byid/GID"}`.
/// A disconnect takes its `path` when the connection data has no `device_path`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Always `block`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The device.
    pub path: PathBuf,
}

impl DeviceInfo {
    /// A block device at `path`.
    pub fn block(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: "block".to_owned(),
            path: path.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cinder_connection_data_parses() {
        let props = ConnectionProperties::from_json(
            &json!({"client_id": 3, "volume": "5f0c", "access_mode": "rw", "qos": {}}),
        )
        .unwrap();
        assert_eq!(props.require_client_id().unwrap().get(), 3);
        assert_eq!(props.require_volume().unwrap(), "5f0c");
        assert_eq!(props.require_access_mode().unwrap(), AccessMode::Rw);
        assert_eq!(props.device_path, None);
        let props = ConnectionProperties::from_json(
            &json!({"client_id": "1", "volume": 42, "device_path": "/dev/storpool/x"}),
        )
        .unwrap();
        assert_eq!(props.client_id.unwrap().get(), 1);
        assert_eq!(props.volume.as_deref(), Some("42"));
        assert_eq!(
            props.device_path.as_deref(),
            Some(std::path::Path::new("/dev/storpool/x"))
        );
    }

    #[test]
    fn every_invalid_member_is_named() {
        for (data, field) in [
            (json!({"client_id": 0}), "client_id"),
            (json!({"client_id": 4096}), "client_id"),
            (json!({"client_id": "x"}), "client_id"),
            (json!({"client_id": -1}), "client_id"),
            (json!({"client_id": true}), "client_id"),
            (json!({"volume": ""}), "volume"),
            (json!({"volume": ["a"]}), "volume"),
            (json!({"volume": -3}), "volume"),
            (json!({"access_mode": "rwx"}), "access_mode"),
            (json!({"access_mode": 1}), "access_mode"),
            (json!({"device_path": ""}), "device_path"),
            (json!({"device_path": 7}), "device_path"),
            (json!("client_id"), "data"),
        ] {
            let err = ConnectionProperties::from_json(&data).unwrap_err();
            assert!(
                matches!(&err, AttachError::InvalidField { field: f, .. } if *f == field),
                "{data}: {err}"
            );
            assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
            assert!(err.is_usage());
        }
    }

    #[test]
    fn missing_members_are_named_when_needed() {
        let props = ConnectionProperties::from_json(&json!({"volume": null})).unwrap();
        for (err, field) in [
            (props.require_client_id().unwrap_err(), "client_id"),
            (props.require_volume().unwrap_err(), "volume"),
            (props.require_access_mode().unwrap_err(), "access_mode"),
        ] {
            assert_eq!(
                err.to_string(),
                format!("invalid StorPool connection data: no `{field}`")
            );
        }
    }

    #[test]
    fn whole_connection_info_must_be_storpool() {
        let info = json!({"driver_volume_type": "storpool", "data": {"client_id": 2}});
        let props = ConnectionProperties::from_connection_info(&info).unwrap();
        assert_eq!(props.client_id.unwrap().get(), 2);
        let err = ConnectionProperties::from_connection_info(
            &json!({"driver_volume_type": "iscsi", "data": {}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`driver_volume_type`"), "{err}");
        let err =
            ConnectionProperties::from_connection_info(&json!({"driver_volume_type": "storpool"}))
                .unwrap_err();
        assert!(matches!(err, AttachError::MissingField { field: "data" }));
    }

    #[test]
    fn device_info_has_the_os_brick_shape() {
        let info = DeviceInfo::block("/dev/storpool-byid/d.n.a");
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({"type": "block", "path": "/dev/storpool-byid/d.n.a"})
        );
    }
}
