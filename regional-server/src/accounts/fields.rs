//! A posted form read as name/value pairs, so a field may repeat (a multi-select).

use crate::error::AppError;

/// The fields of a form post, in order.
#[derive(Debug, Default)]
pub(super) struct Fields(pub(super) Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; empty when absent.
    pub(super) fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name` as given (a password keeps its spaces).
    pub(super) fn raw(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every value of `name`, at most `max` (more is a malformed post).
    pub(super) fn all(&self, name: &str, max: usize) -> Result<Vec<String>, AppError> {
        let v: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect();
        if v.len() > max {
            return Err(AppError::bad_request(format!("“{name}”选得太多")));
        }
        Ok(v)
    }
}
