//! JSON Schema pieces for the types that parse themselves from a string (fault ids,
//! response types, outcome codes): the file formats' schemas list their values.

/// A string that is one of `values`.
pub fn one_of_strings<S: Into<String>>(
    description: &str,
    values: impl IntoIterator<Item = S>,
) -> schemars::Schema {
    let values: Vec<String> = values.into_iter().map(Into::into).collect();
    schemars::json_schema!({
        "description": description,
        "type": "string",
        "enum": values,
    })
}
