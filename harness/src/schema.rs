//! JSON Schemas of the file formats (scenario, RP profile, tenant, vendor product),
//! generated from the Rust types the files are read into, so that they say what the
//! parser accepts: the same fields, defaults, enumerations and doc comments. `schemas/`
//! holds them (a test keeps it equal to this output; `UPDATE_DOCS=1 cargo test -p harness
//! schemas` rewrites it) and `.taplo.toml` points editors at them.

use std::path::Path;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

/// A file format of the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A scenario (`scenarios/**/*.toml`; docs/scenario-format.md).
    Scenario,
    /// An RP profile (`fixtures/rps/*.toml`; docs/rp-profile.md).
    RpProfile,
    /// A tenant of the mock IdP (`fixtures/tenants/*.toml`; docs/tenant-format.md).
    Tenant,
    /// A vendor product's errors (`scenarios/vendors/*/product.toml`; docs/playbooks).
    Product,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [
        Format::Scenario,
        Format::RpProfile,
        Format::Tenant,
        Format::Product,
    ];

    /// Its name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Scenario => "scenario",
            Format::RpProfile => "rp-profile",
            Format::Tenant => "tenant",
            Format::Product => "product",
        }
    }

    /// The schema's file name in `schemas/`.
    pub fn file_name(self) -> String {
        format!("{}.schema.json", self.as_str())
    }

    fn about(self) -> (&'static str, &'static str) {
        match self {
            Format::Scenario => ("oidc-harness scenario", "docs/scenario-format.md"),
            Format::RpProfile => ("oidc-harness RP profile", "docs/rp-profile.md"),
            Format::Tenant => ("oidc-harness mock IdP tenant", "docs/tenant-format.md"),
            Format::Product => ("oidc-harness vendor product", "scenarios/README.md"),
        }
    }

    /// The schema (JSON Schema draft 7, which every TOML and JSON editor reads).
    pub fn schema(self) -> Schema {
        fn root<T: JsonSchema>() -> Schema {
            SchemaSettings::draft07()
                .for_deserialize()
                .into_generator()
                .into_root_schema_for::<T>()
        }
        let mut schema = match self {
            Format::Scenario => root::<crate::scenario::Scenario>(),
            Format::RpProfile => root::<crate::profile::Profile>(),
            Format::Tenant => root::<mock_idp::Tenant>(),
            Format::Product => root::<crate::product::Product>(),
        };
        plain_links(schema.as_object_mut().expect("a root schema is an object"));
        let (title, doc) = self.about();
        schema.insert("title".into(), title.into());
        schema.insert(
            "$comment".into(),
            format!(
                "Generated from the Rust types by `oidc-harness schema {}` ({}); see {doc}.",
                self.as_str(),
                env!("CARGO_PKG_VERSION")
            )
            .into(),
        );
        schema
    }

    /// The schema as the text of its file.
    pub fn text(self) -> String {
        let mut s = serde_json::to_string_pretty(&self.schema()).expect("a schema serialises");
        s.push('\n');
        s
    }
}

/// Rustdoc links in descriptions (``[`Scenario::flow_set`]``) as plain code: editors show
/// descriptions as Markdown, where the brackets would print.
fn plain_links(object: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    for (key, value) in object.iter_mut() {
        match value {
            Value::String(text) if key == "description" && text.contains("[`") => {
                *text = text.replace("[`", "`").replace("`]", "`");
            }
            Value::Object(inner) => plain_links(inner),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        plain_links(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Writes every schema into `dir` (created when missing); returns the files written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    Format::ALL
        .iter()
        .map(|f| {
            let path = dir.join(f.file_name());
            let tmp = dir.join(format!(".{}.tmp", f.file_name()));
            std::fs::write(&tmp, f.text())?;
            std::fs::rename(&tmp, &path)?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schemas/` is what the types say (UPDATE_DOCS=1 rewrites it).
    #[test]
    fn schemas_match_the_types() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        if std::env::var_os("UPDATE_DOCS").is_some() {
            write_all(&dir).unwrap();
        }
        for f in Format::ALL {
            let path = dir.join(f.file_name());
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == f.text(),
                "{} differs from the types: run `UPDATE_DOCS=1 cargo test -p harness schemas`",
                path.display()
            );
        }
    }

    /// The schemas close the doors a typo would go through: unknown fields, values
    /// outside an enumeration, required fields.
    #[test]
    fn schemas_are_strict_where_the_parser_is() {
        let s = serde_json::to_value(Format::Scenario.schema()).unwrap();
        assert_eq!(s["additionalProperties"], false);
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(required, ["id", "title", "expect"]);
        let faults = &s["definitions"]["FaultId"]["enum"];
        assert!(
            faults
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == "nonce-mismatch")
        );
        let rt = &s["definitions"]["ResponseType"]["enum"];
        // Six response types, their words in every order: 1 + 1 + 2 + 2 + 2 + 6.
        assert_eq!(rt.as_array().unwrap().len(), 14);
        let p = serde_json::to_value(Format::RpProfile.schema()).unwrap();
        assert_eq!(p["additionalProperties"], false);
        assert_eq!(p["properties"]["timeout_secs"]["default"], 20);
    }
}
