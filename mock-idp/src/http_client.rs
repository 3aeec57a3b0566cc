//! The HTTP clients of the IdP and the harness (back-channel logout, SCIM, the HTTP
//! driver, readiness polls), built so that they also work where the system has no CA
//! roots at all, as in an empty container: there they trust only the CAs given.

/// Builds a client with `configure` applied, trusting the system's CA roots and `extra`
/// (PEM); where the system's roots cannot be loaded, trusting `extra` only.
pub fn build(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    extra: Option<&str>,
) -> Result<reqwest::Client, String> {
    let certs = || -> Result<Vec<reqwest::Certificate>, String> {
        match extra {
            Some(pem) => match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(certs) if !certs.is_empty() => Ok(certs),
                Ok(_) => Err("no CA certificate in the PEM given".to_string()),
                Err(e) => Err(format!("a CA certificate that does not parse: {e}")),
            },
            None => Ok(Vec::new()),
        }
    };
    match configure(reqwest::Client::builder())
        .tls_certs_merge(certs()?)
        .build()
    {
        Ok(client) => Ok(client),
        Err(system) => configure(reqwest::Client::builder())
            .tls_certs_only(certs()?)
            .build()
            .map_err(|e| format!("{e:?} (with the system's CA roots: {system:?})")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_with_and_without_extra_roots() {
        let ca = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/tls/ca.pem"
        ))
        .unwrap();
        assert!(super::build(|b| b, Some(&ca)).is_ok());
        assert!(super::build(|b| b, None).is_ok());
        assert!(super::build(|b| b, Some("not a certificate")).is_err());
    }
}
