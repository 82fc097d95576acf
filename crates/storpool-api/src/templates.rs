//! Volume template calls: `client.templates()`.

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{ApiOk, Template, TemplateCreate, TemplateStatus, TemplateUpdate};
use crate::names::TemplateName;

/// Volume template calls; see [`Client::templates`]. None has a `MultiCluster/` form.
#[derive(Clone, Copy, Debug)]
pub struct Templates<'a> {
    client: &'a Client,
}

impl Client {
    /// Volume template calls.
    pub fn templates(&self) -> Templates<'_> {
        Templates { client: self }
    }
}

impl Templates<'_> {
    /// `GET VolumeTemplatesList`.
    pub async fn list(&self) -> Result<Vec<Template>, ApiError> {
        self.client.get("VolumeTemplatesList", &[], false).await
    }

    /// `GET VolumeTemplatesStatus`: usage and capacity per template.
    pub async fn status(&self) -> Result<Vec<TemplateStatus>, ApiError> {
        self.client.get("VolumeTemplatesStatus", &[], false).await
    }

    /// `GET VolumeTemplateDescribe/NAME`: `objectDoesNotExist` when there is none.
    pub async fn describe(&self, template: &TemplateName) -> Result<Template, ApiError> {
        self.client
            .get("VolumeTemplateDescribe", &[template.as_str()], false)
            .await
    }

    /// `POST VolumeTemplateCreate`.
    pub async fn create(&self, request: &TemplateCreate) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post("VolumeTemplateCreate", &[], false, Some(request))
            .await
    }

    /// `POST VolumeTemplateUpdate/NAME`.
    pub async fn update(
        &self,
        template: &TemplateName,
        request: &TemplateUpdate,
    ) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post(
                "VolumeTemplateUpdate",
                &[template.as_str()],
                false,
                Some(request),
            )
            .await
    }

    /// `POST VolumeTemplateDelete/NAME`.
    pub async fn delete(&self, template: &TemplateName) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("VolumeTemplateDelete", &[template.as_str()], false, None)
            .await
    }
}
