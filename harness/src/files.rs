//! Reading scenario and profile files, with errors that point at the text.

use std::path::Path;

use mock_idp::diag::Diagnostic;

/// An input file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not readable.
    #[error("{path}: cannot read: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Not valid; the diagnostic points at the text.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// Something about a set of files (duplicate ids, empty suite).
    #[error("{0}")]
    Other(String),
}

/// Reads an input file to a string (a regular file, at most 10 MB).
pub fn read(path: &Path) -> Result<String, InputError> {
    match mock_idp::diag::read_input(path) {
        Ok(text) => Ok(text),
        // Not on disk: the built-in catalog's copy, if `path` is one of its files.
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound && crate::catalog::file(path).is_some() =>
        {
            Ok(crate::catalog::file(path).unwrap_or_default().to_string())
        }
        Err(e) => Err(InputError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Parses TOML into `T`, turning serde's errors into located diagnostics with a
/// "did you mean" for unknown fields and variants.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, InputError> {
    toml::from_str(text)
        .map_err(|e| InputError::Invalid(Box::new(Diagnostic::from_toml(file, text, &e))))
}

/// A located error for the value at `path` (keys and indices) of `text`.
pub fn at_path(
    file: &str,
    text: &str,
    path: &[&str],
    message: String,
    help: Option<String>,
) -> InputError {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    let mut d = Diagnostic::at_path(file, text, &path, message);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    InputError::Invalid(Box::new(d))
}
