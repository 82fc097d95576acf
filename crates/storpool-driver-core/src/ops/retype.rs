//! Retype: make a volume match a new volume type, from the new type's specs alone.

use storpool_api::{Limit, Template, TemplateName, VolumeUpdate};
use tracing::Instrument;

use crate::driver::{Driver, Op, Placement, Specs, Wanted, volume_ref};
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
    ///   {"template"}` when the volume has another one, or another replication or placement
    ///   than the template sets (what the cluster has is compared, not only the name);
    /// - with no template to apply, the type's `storpool_replication` (or the default
    ///   replication) is applied with `VolumeUpdate {"replication"}` when the volume has a
    ///   template or another replication;
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
        let result = async {
            let wanted = self.wanted(new_specs)?;
            self.retype_in(&mut op, id, &wanted, encryption_changed)
                .await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Moves volume `id` into pool `pool` of this backend in place, without copying data
    /// (Cinder's `migrate_volume` to another pool of the same backend): the volume gets the
    /// pool's template, or the replication of an untemplated pool, and keeps the QoS limits
    /// of its type (`specs`). Refused (`retyped: false`, nothing changed) when `pool` is not
    /// a pool [`Driver::stats`] reports; a volume already in place is left alone.
    pub async fn move_to_pool(
        &self,
        id: &str,
        pool: &str,
        specs: &Specs,
    ) -> Result<RetypeOutcome, DriverError> {
        let mut op = Op::new("move volume to pool", id);
        let span = op.span();
        let result = async {
            let mut wanted = self.wanted(specs)?;
            match self.pool_placement(pool) {
                Some(Placement::Template(template)) => {
                    wanted.template = Some(template);
                    wanted.replication = None;
                }
                Some(Placement::Replication(n)) => {
                    wanted.template = None;
                    wanted.replication = Some(n);
                }
                None => {
                    tracing::warn!(pool, "not one of this backend's pools: not moved");
                    return Ok(RetypeOutcome {
                        retyped: false,
                        refused: Some(RetypeRefusal::UnknownPool {
                            pool: pool.to_owned(),
                        }),
                        changed: Vec::new(),
                    });
                }
            }
            wanted.backend = None;
            self.retype_in(&mut op, id, &wanted, false).await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    async fn retype_in(
        &self,
        op: &mut Op,
        id: &str,
        wanted: &Wanted,
        encryption_changed: bool,
    ) -> Result<RetypeOutcome, DriverError> {
        let refused = |reason| RetypeOutcome {
            retyped: false,
            refused: Some(reason),
            changed: Vec::new(),
        };
        let (name, object) = self.volume(id)?;
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
            let described = self.describe_template(op, template).await?;
            // The name alone is not the truth: a volume that got another replication or
            // placement since (or a template changed since) re-applies the template.
            let differs = current_template != Some(template.as_str())
                || described
                    .replication
                    .value()
                    .is_some_and(|n| n != current.replication)
                || [
                    (&described.place_all, &current.place_all),
                    (&described.place_tail, &current.place_tail),
                    (&described.place_head, &current.place_head),
                ]
                .iter()
                .any(|(wanted, has)| !wanted.is_empty() && wanted != has);
            if differs {
                update.template = Some(template.clone());
                changed.push("template".to_owned());
            }
            template_limits = (described.iops, described.bw);
        } else if let Some(replication) = wanted.replication
            && (current_template.is_some() || current.replication != replication)
        {
            update.replication = Some(replication);
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

    /// A template's settings (`VolumeTemplateDescribe`).
    async fn describe_template(
        &self,
        op: &mut Op,
        template: &TemplateName,
    ) -> Result<Template, DriverError> {
        let object = Object::new(IdKind::Template, template.as_str(), None);
        op.run(
            &object,
            "VolumeTemplateDescribe",
            self.client.templates().describe(template),
        )
        .await
    }
}
