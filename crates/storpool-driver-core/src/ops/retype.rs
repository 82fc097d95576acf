//! Retype: make a volume match a new volume type, from the new type's specs alone.

use storpool_api::{Limit, TemplateName, VolumeUpdate};
use tracing::Instrument;

use crate::driver::{Driver, Op, Specs, volume_ref};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::{RetypeOutcome, RetypeRefusal};

impl Driver {
    /// Makes volume `id` match a new volume type, given the new type's specs only: the
    /// volume's current template and limits are read from the cluster.
    ///
    /// Refused (nothing changed, `retyped: false`) when `encryption_changed`, or when the new
    /// type names another backend (`volume_backend_name`): both need a migration. Otherwise:
    /// - the type's template (or the backend default) is applied with `VolumeUpdate
    ///   {"template"}` when the volume has another one; with no template to apply, a volume
    ///   that has one gets the default replication instead (a volume without a template keeps
    ///   its replication);
    /// - the QoS limits become the type's, or, when it sets none, the template's (unlimited
    ///   without a template).
    ///
    /// A volume that already matches is left alone (`changed` is empty).
    pub async fn retype_volume(
        &self,
        id: &str,
        new_specs: &Specs,
        encryption_changed: bool,
    ) -> Result<RetypeOutcome, DriverError> {
        let mut op = Op::new("retype volume", id);
        let span = op.span();
        let result = self
            .retype_in(&mut op, id, new_specs, encryption_changed)
            .instrument(span)
            .await;
        op.finish(result)
    }

    async fn retype_in(
        &self,
        op: &mut Op,
        id: &str,
        new_specs: &Specs,
        encryption_changed: bool,
    ) -> Result<RetypeOutcome, DriverError> {
        let refused = |reason| RetypeOutcome {
            retyped: false,
            refused: Some(reason),
            changed: Vec::new(),
        };
        let (name, object) = self.volume(id)?;
        let wanted = self.wanted(new_specs)?;
        if encryption_changed {
            tracing::warn!("retype refused: the encryption changes");
            return Ok(refused(RetypeRefusal::EncryptionChange));
        }
        if let Some(backend) = &wanted.backend
            && backend != self.backend_name()
        {
            tracing::warn!(
                backend,
                "retype refused: the new type is for another backend"
            );
            return Ok(refused(RetypeRefusal::BackendChange {
                current: self.backend_name().to_owned(),
                requested: backend.clone(),
            }));
        }
        let current = op
            .run(
                &object,
                "Volume",
                self.client.volumes().get(&volume_ref(&name)),
            )
            .await?;
        let current_template =
            (!current.template_name.is_empty()).then_some(current.template_name.as_str());

        let mut update = VolumeUpdate::default();
        let mut changed = Vec::new();
        let mut template_limits = (Limit::Unlimited, Limit::Unlimited);
        if let Some(template) = &wanted.template {
            if current_template != Some(template.as_str()) {
                update.template = Some(template.clone());
                changed.push("template".to_owned());
            }
            if wanted.qos.iops.is_none() || wanted.qos.bw.is_none() {
                template_limits = self.template_limits(op, template).await?;
            }
        } else if current_template.is_some() {
            update.replication = wanted.replication;
            changed.push("replication".to_owned());
        }
        let (template_iops, template_bw) = template_limits;
        let iops = wanted.qos.iops.unwrap_or(template_iops);
        let bw = wanted.qos.bw.unwrap_or(template_bw);
        if current.iops != iops {
            changed.push("iops".to_owned());
        }
        if current.bw != bw {
            changed.push("bw".to_owned());
        }
        if !changed.is_empty() {
            // The limits go along every time: re-applying a template resets them.
            update.iops = Some(iops);
            update.bw = Some(bw);
            op.run(
                &object,
                "VolumeUpdate",
                self.client.volumes().update(&volume_ref(&name), &update),
            )
            .await?;
        }
        Ok(RetypeOutcome {
            retyped: true,
            refused: None,
            changed,
        })
    }

    /// A template's `iops` and `bw`.
    async fn template_limits(
        &self,
        op: &mut Op,
        template: &TemplateName,
    ) -> Result<(Limit, Limit), DriverError> {
        let object = Object::new(IdKind::Template, template.as_str(), None);
        let described = op
            .run(
                &object,
                "VolumeTemplateDescribe",
                self.client.templates().describe(template),
            )
            .await?;
        Ok((described.iops, described.bw))
    }
}
