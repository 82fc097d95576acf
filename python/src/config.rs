//! Reading storpool.conf the way the tools do.

use std::path::PathBuf;

use pyo3::PyResult;
use storpool_conf::{Config, Loader, SP_API_HTTP_HOST, STORPOOL_CONF};

use crate::errors::config_error;

/// Where the configuration comes from: `path` when given, else `$STORPOOL_CONF`, else
/// `/etc/storpool.conf` (which may be missing when the environment names the API:
/// `SP_API_HTTP_HOST`), each with its drop-ins, this node's section and the environment.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    path: Option<PathBuf>,
}

impl Source {
    pub(crate) fn new(path: Option<PathBuf>) -> Self {
        Self { path }
    }

    /// The loader for this source.
    pub(crate) fn loader(&self) -> Loader {
        if let Some(path) = &self.path {
            return Loader::new(path);
        }
        let loader = Loader::system();
        let named = std::env::var_os(STORPOOL_CONF).is_some_and(|v| !v.is_empty());
        let env_names_api = std::env::var_os(SP_API_HTTP_HOST).is_some_and(|v| !v.is_empty());
        let missing = !loader.main_file().exists();
        loader.missing_ok(!named && env_names_api && missing)
    }

    /// Reads it.
    pub(crate) fn load(&self) -> PyResult<(Config, Loader)> {
        let loader = self.loader();
        let config = loader.load().map_err(|err| config_error(&err))?;
        Ok((config, loader))
    }
}
