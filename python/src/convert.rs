//! Conversions between Python values and the crates' types.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyMapping, PyString};
use serde::Serialize;
use storpool_driver_core::Specs;

use crate::errors::invalid_input;

/// A serializable result as plain Python values (dicts, lists, str, int, float, None), with
/// the field names of its JSON.
pub(crate) fn to_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    pythonize::pythonize(py, value)
        .map(Bound::unbind)
        .map_err(|err| {
            pyo3::exceptions::PyRuntimeError::new_err(format!(
                "cannot convert a result to Python: {err}"
            ))
        })
}

/// A volume type's specs: a mapping of `str` to `str` (an `int` value is taken as its
/// decimal text, as Cinder stores every spec as text); None is no specs.
pub(crate) fn specs(given: Option<&Bound<'_, PyAny>>) -> PyResult<Specs> {
    let mut specs = BTreeMap::new();
    let Some(given) = given.filter(|g| !g.is_none()) else {
        return Ok(specs);
    };
    let mapping = given.cast::<PyMapping>().map_err(|_| {
        invalid_input(format!(
            "volume-type specs must be a mapping of str to str, not {}",
            type_name(given)
        ))
    })?;
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let Ok(key) = key.cast::<PyString>() else {
            return Err(invalid_input(format!(
                "volume-type spec keys must be str, not {}",
                type_name(&key)
            )));
        };
        let key: String = key.extract()?;
        let value = if let Ok(text) = value.cast::<PyString>() {
            text.extract::<String>()?
        } else if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
            value.str()?.extract::<String>()?
        } else {
            return Err(invalid_input(format!(
                "volume-type spec {key} must be a str, not {}",
                type_name(&value)
            )));
        };
        specs.insert(key, value);
    }
    Ok(specs)
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |name| name.to_string())
}
