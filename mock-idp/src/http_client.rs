//! The HTTP clients of the IdP and the harness (back-channel logout, SCIM, the HTTP
//! driver, readiness polls), built so that they also work where the system has no CA
//! roots at all, as in an empty container: there they trust only the CAs given.

use std::sync::OnceLock;

/// The system's CA roots, read once per process: reading and decoding them is most of
/// what building a client costs, and the harness builds one per scenario (each with its
/// own cookies) and per RP start. Empty where the system has none.
fn system_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect()
    })
}

/// Builds the client `builder` describes, trusting the system's CA roots and `extra`
/// (PEM); where the system has no roots, trusting `extra` only.
pub fn build(
    builder: reqwest::ClientBuilder,
    extra: Option<&str>,
) -> Result<reqwest::Client, String> {
    let extra = match extra {
        Some(pem) => match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
            Ok(certs) if !certs.is_empty() => certs,
            Ok(_) => return Err("no CA certificate in the PEM given".to_string()),
            Err(e) => return Err(format!("a CA certificate that does not parse: {e}")),
        },
        None => Vec::new(),
    };
    builder
        .tls_certs_only(system_roots().iter().cloned().chain(extra))
        .build()
        .map_err(|e| format!("{e:?}"))
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
        assert!(super::build(reqwest::Client::builder(), Some(&ca)).is_ok());
        assert!(super::build(reqwest::Client::builder(), None).is_ok());
        assert!(super::build(reqwest::Client::builder(), Some("not a certificate")).is_err());
    }
}
