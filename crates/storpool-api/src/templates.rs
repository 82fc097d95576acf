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
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let templates = client.templates(); // the calls on templates
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn templates(&self) -> Templates<'_> {
        Templates { client: self }
    }
}

impl Templates<'_> {
    /// `GET VolumeTemplatesList`.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for template in client.templates().list().await? {
    ///     println!("{}: replication {:?}", template.name, template.replication);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<Template>, ApiError> {
        self.client.get("VolumeTemplatesList", &[], false).await
    }

    /// `GET VolumeTemplatesStatus`: usage and capacity per template.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// let status = client.templates().status().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status(&self) -> Result<Vec<TemplateStatus>, ApiError> {
        self.client.get("VolumeTemplatesStatus", &[], false).await
    }

    /// `GET VolumeTemplateDescribe/NAME`: `objectDoesNotExist` when there is none.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::TemplateName;
    ///
    /// let ssd = client.templates().describe(&TemplateName::new("ssd")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe(&self, template: &TemplateName) -> Result<Template, ApiError> {
        self.client
            .get("VolumeTemplateDescribe", &[template.as_str()], false)
            .await
    }

    /// `POST VolumeTemplateCreate`.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{TemplateCreate, TemplateName};
    ///
    /// let request = TemplateCreate { replication: Some(3), ..TemplateCreate::new(TemplateName::new("ssd")?) };
    /// client.templates().create(&request).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, request: &TemplateCreate) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post("VolumeTemplateCreate", &[], false, Some(request))
            .await
    }

    /// `POST VolumeTemplateUpdate/NAME`.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{TemplateName, TemplateUpdate};
    ///
    /// let request = TemplateUpdate { replication: Some(2), ..TemplateUpdate::default() };
    /// client.templates().update(&TemplateName::new("ssd")?, &request).await?;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::TemplateName;
    ///
    /// client.templates().delete(&TemplateName::new("old")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, template: &TemplateName) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("VolumeTemplateDelete", &[template.as_str()], false, None)
            .await
    }
}
