//! Products' SSO playbooks as data: `scenarios/vendors/<product>/product.toml` names the
//! product, its playbook, and each error it shows (in its own words or codes) with the
//! scenarios that reproduce it. `list --product` and `reproduce --product` read it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::files::{InputError, at_path, parse_toml, read};
use crate::outcome::OutcomeCode;
use crate::scenario::Loaded;

/// The file name of a product's manifest in its suite folder (never read as a scenario).
pub const MANIFEST: &str = "product.toml";

/// A product's playbook.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Its name, as its documentation writes it.
    pub name: String,
    /// The playbook page, from the project's root.
    pub playbook: String,
    /// The tenant set up as the product's guide tells the admin (from the project's root).
    #[serde(default)]
    pub tenant: Option<String>,
    /// The RP profile of the sample RP configured like the product.
    #[serde(default)]
    pub profile: Option<String>,
    /// The errors it shows, in its troubleshooting table's order.
    #[serde(default)]
    pub errors: Vec<ProductError>,
}

/// One error the product shows.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductError {
    /// What the product shows: its code or message (`oidc_nonce_missing`, `request from
    /// invalid origin: null`).
    pub says: String,
    /// What a user sees or reports, in a few words.
    pub symptom: String,
    /// The outcome code it corresponds to: every scenario expecting it reproduces it.
    #[serde(default)]
    pub outcome: Option<OutcomeCode>,
    /// Scenarios that reproduce it, by id (besides those of `outcome`).
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// The stand-in they run against, when not the product's `profile` (a setting the
    /// main stand-in does not have: ClearML reading the ID token only).
    #[serde(default)]
    pub profile: Option<String>,
}

impl ProductError {
    /// The scenarios of `all` that reproduce it: those named, then those expecting its
    /// outcome code.
    pub fn reproduced_by<'a>(&self, all: &'a [Loaded]) -> Vec<&'a Loaded> {
        let mut out: Vec<&Loaded> = self
            .scenarios
            .iter()
            .filter_map(|id| all.iter().find(|l| l.scenario.id == *id))
            .collect();
        if let Some(code) = self.outcome {
            for l in all.iter().filter(|l| l.scenario.expect.code == Some(code)) {
                if !out.iter().any(|o| o.scenario.id == l.scenario.id) {
                    out.push(l);
                }
            }
        }
        out
    }
}

impl Product {
    /// The error the product shows as `words` (its code, or a part of its message; case
    /// does not matter).
    pub fn error(&self, words: &str) -> Option<&ProductError> {
        let w = words.trim().to_lowercase();
        self.errors
            .iter()
            .find(|e| e.says.to_lowercase() == w)
            .or_else(|| {
                self.errors
                    .iter()
                    .find(|e| !w.is_empty() && e.says.to_lowercase().contains(&w))
            })
    }
}

/// The manifest of product `id` under the scenario folders `dirs`
/// (`<dir>/vendors/<id>/product.toml`).
pub fn path_of(dirs: &[PathBuf], id: &str) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join("vendors").join(id).join(MANIFEST))
        .find(|p| p.is_file() || (!p.exists() && crate::catalog::file(p).is_some()))
}

/// The products with a manifest under `dirs`.
pub fn known(dirs: &[PathBuf]) -> Vec<String> {
    let mut out: Vec<String> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d.join("vendors")).ok())
        .flat_map(|r| r.flatten())
        .filter(|e| e.path().join(MANIFEST).is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    // The built-in catalog's, for the folders that are not on disk.
    for d in dirs.iter().filter(|d| !d.exists()) {
        let vendors = d.join("vendors");
        for p in crate::catalog::under(&vendors) {
            let id = p
                .rsplit('/')
                .nth(1)
                .filter(|_| p.ends_with(&format!("/{MANIFEST}")));
            if let Some(id) = id.filter(|id| !out.iter().any(|o| o == id)) {
                out.push(id.to_string());
            }
        }
    }
    out.sort();
    out
}

/// Reads and checks a manifest: every scenario it names exists in `all`.
pub fn load(path: &Path, all: &[Loaded]) -> Result<Product, InputError> {
    let text = read(path)?;
    let file = path.display().to_string();
    let p: Product = parse_toml(&file, &text)?;
    for (i, e) in p.errors.iter().enumerate() {
        if e.outcome.is_none() && e.scenarios.is_empty() {
            return Err(at_path(
                &file,
                &text,
                &["errors", &i.to_string(), "says"],
                format!(
                    "`{}` names no way to reproduce it: give `outcome` or `scenarios`",
                    e.says
                ),
                None,
            ));
        }
        for (k, id) in e.scenarios.iter().enumerate() {
            if !all.iter().any(|l| l.scenario.id == *id) {
                let ids = all.iter().map(|l| l.scenario.id.as_str());
                let hint =
                    mock_idp::diag::did_you_mean(id, ids).map(|s| format!("did you mean `{s}`?"));
                return Err(at_path(
                    &file,
                    &text,
                    &["errors", &i.to_string(), "scenarios", &k.to_string()],
                    format!("no scenario `{id}`"),
                    hint,
                ));
            }
        }
    }
    Ok(p)
}
