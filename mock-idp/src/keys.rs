//! Signing keys: loaded from PEM once, kept parsed for signing, published as a JWKS.
//!
//! Design note: `jsonwebtoken::encode` re-parses the DER key on every call, which costs
//! about two thirds of a token's issuance time. We keep one parsed aws-lc `RsaKeyPair` per
//! key and sign the JWS signing input ourselves; the same key pair gives the modulus and
//! exponent for the JWKS and the `kid` (an RFC 7638 thumbprint, 43 characters, the same
//! shape as Okta's). Each key is parsed and checked once, by aws-lc alone: parsing it a
//! second time elsewhere was half of the IdP's start-up. The six fixture keys are parsed on
//! first use (aws-lc's check of a private key is ~2.6 million instructions of constant-time
//! division, most of a start-up's work, and an IdP signs with one key): their `kid`, `n`
//! and `e` come from the PKCS#8 structure, read without the private key.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

/// Errors loading a signing key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM text is not a private key of the kind expected.
    #[error("{origin}: expected {expected} in PEM (found: {reason})")]
    Parse {
        /// Where the key came from (file name or fixture name).
        origin: String,
        /// What kind of key was expected.
        expected: &'static str,
        /// What the parser said.
        reason: String,
    },
}

/// One RSA signing key, parsed once.
pub struct SigningKey {
    kid: String,
    n_b64: String,
    e_b64: String,
    /// The parsed private key; for a fixture key, parsed from `pkcs8` on first use.
    pair: OnceLock<RsaKeyPair>,
    /// A fixture key's PKCS#8 DER, for its parsing on first use (empty for the others).
    pkcs8: Vec<u8>,
    /// How the IdP publishes it (member order, `kid` form, certificate members).
    personality: crate::personality::Personality,
    /// The self-signed certificate (`x5c`, base64 DER) and its thumbprints, when known.
    cert: Option<Cert>,
}

/// A key's certificate as JWKS members carry it.
#[derive(Clone, Debug)]
struct Cert {
    /// Base64 (not URL-safe) DER: the `x5c` entry.
    x5c: String,
    /// base64url SHA-1 of the DER.
    x5t: String,
    /// Hex SHA-1 of the DER (Google's `kid` shape).
    x5t_hex: String,
    /// base64url SHA-256 of the DER.
    x5t256: String,
}

impl Cert {
    fn from_pem(pem: &str) -> Option<Self> {
        use base64::engine::general_purpose::STANDARD;
        let (_, der) = pem_der(pem).ok()?;
        let x5c = STANDARD.encode(&der);
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
        Some(Self {
            x5c,
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_hex: sha1.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
            x5t256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
        })
    }
}

/// The modulus and public exponent (big-endian, no leading zero) of a PKCS#8 RSA private
/// key, read from its structure without parsing the private key: RFC 5208's
/// PrivateKeyInfo (version, algorithm, privateKey) whose OCTET STRING holds RFC 8017's
/// RSAPrivateKey (version, n, e, ...).
fn pkcs8_rsa_public(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (info, _) = der_field(der, 0x30)?;
    let (_, rest) = der_field(info, 0x02)?;
    let (_, rest) = der_field(rest, 0x30)?;
    let (octets, _) = der_field(rest, 0x04)?;
    let (rsa, _) = der_field(octets, 0x30)?;
    let (_, rest) = der_field(rsa, 0x02)?;
    let (n, rest) = der_field(rest, 0x02)?;
    let (e, _) = der_field(rest, 0x02)?;
    let first = |i: &[u8]| i.iter().position(|&b| b != 0);
    Some((&n[first(n)?..], &e[first(e)?..]))
}

/// The contents of the DER field at the start of `der` if its tag is `tag`, and what
/// follows it (definite lengths up to 65,535 bytes, all an RSA key needs).
fn der_field(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *der.first()? != tag {
        return None;
    }
    let (len, head): (usize, usize) = match *der.get(1)? {
        short @ 0..=0x7f => (usize::from(short), 2),
        0x81 => (usize::from(*der.get(2)?), 3),
        0x82 => (
            usize::from(*der.get(2)?) << 8 | usize::from(*der.get(3)?),
            4,
        ),
        _ => return None,
    };
    let end = head.checked_add(len)?;
    Some((der.get(head..end)?, &der[end..]))
}

/// The label and the DER bytes of the first PEM block of `pem` (RFC 7468).
fn pem_der(pem: &str) -> Result<(String, Vec<u8>), String> {
    let mut lines = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN "));
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or("no -----BEGIN ...----- line")?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut b64 = String::new();
    for line in lines.by_ref() {
        if line == end {
            return match base64::engine::general_purpose::STANDARD.decode(&b64) {
                Ok(der) => Ok((label, der)),
                Err(e) => Err(format!("base64 in the {label} block: {e}")),
            };
        }
        b64.push_str(line);
    }
    Err(format!("no {end} line"))
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses an RSA private key in PEM, PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE
    /// KEY`). `origin` names it in errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError::Parse {
            origin: origin.to_string(),
            expected: "an RSA private key (PKCS#8 or PKCS#1)",
            reason,
        };
        let (label, der) = pem_der(pem).map_err(err)?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => return Err(err(format!("a PEM block labelled {other:?}"))),
        }
        .map_err(|e| err(format!("aws-lc rejected the key: {e}")))?;
        let public = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        Ok(Self::with_public(
            &public.n,
            &public.e,
            pair.into(),
            Vec::new(),
        ))
    }

    /// A fixture key from its PEM, parsed on first use; `None` when the PEM is not a
    /// PKCS#8 RSA key.
    fn fixture(pem: &str) -> Option<Self> {
        let (_, pkcs8) = pem_der(pem).ok()?;
        let (n, e) = pkcs8_rsa_public(&pkcs8)?;
        let (n, e) = (n.to_vec(), e.to_vec());
        Some(Self::with_public(&n, &e, OnceLock::new(), pkcs8))
    }

    fn with_public(n: &[u8], e: &[u8], pair: OnceLock<RsaKeyPair>, pkcs8: Vec<u8>) -> Self {
        let n_b64 = URL_SAFE_NO_PAD.encode(n);
        let e_b64 = URL_SAFE_NO_PAD.encode(e);
        // RFC 7638 section 3.2: the required members in lexicographic order, no white space.
        let thumb_input = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, thumb_input.as_bytes()).as_ref(),
        );
        Self {
            kid,
            n_b64,
            e_b64,
            pair,
            pkcs8,
            personality: crate::personality::Personality::Okta,
            cert: None,
        }
    }

    /// The parsed private key (a fixture key's is parsed here the first time).
    fn pair(&self) -> &RsaKeyPair {
        self.pair.get_or_init(|| {
            RsaKeyPair::from_pkcs8(&self.pkcs8)
                .expect("the fixture keys are valid PKCS#8 RSA keys (keys::tests)")
        })
    }

    /// The same key as `personality` publishes it, with its certificate (PEM): the
    /// `kid` in that IdP's form, the JWK members in its order.
    pub fn as_published_by(
        mut self,
        personality: crate::personality::Personality,
        cert_pem: Option<&str>,
    ) -> Self {
        self.cert = cert_pem.and_then(Cert::from_pem);
        let (x5t, hex) = self
            .cert
            .as_ref()
            .map_or((self.kid.clone(), String::new()), |c| {
                (c.x5t.clone(), c.x5t_hex.clone())
            });
        let hex = if hex.is_empty() {
            self.kid.clone()
        } else {
            hex
        };
        self.kid = personality.kid(&self.kid, &x5t, &hex);
        self.personality = personality;
        self
    }

    /// The IdP whose shapes the key is published in.
    pub fn personality(&self) -> crate::personality::Personality {
        self.personality
    }

    /// The certificate's SHA-1 thumbprint (`x5t`), when the key has a certificate.
    pub fn x5t(&self) -> Option<&str> {
        self.cert.as_ref().map(|c| c.x5t.as_str())
    }

    /// The key id (`kid`) published in the JWKS and written in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Vec<u8> {
        let pair = self.pair();
        let mut sig = vec![0u8; pair.public_modulus_len()];
        // Signing with a key that parsed can only fail if the RNG for blinding fails.
        pair.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut sig,
        )
        .expect("RSA signing failed");
        sig
    }

    /// The public key as a JWK, members in Okta's order (`kty, alg, kid, use, e, n`).
    pub fn jwk(&self) -> serde_json::Value {
        match (&self.cert, self.personality) {
            (Some(c), p) => p.jwk(
                &self.kid,
                &self.n_b64,
                &self.e_b64,
                &c.x5c,
                &c.x5t,
                &c.x5t256,
            ),
            (None, _) => {
                json!({"kty": "RSA", "alg": "RS256", "kid": self.kid, "use": "sig", "e": self.e_b64, "n": self.n_b64})
            }
        }
    }

    /// The public key for `jsonwebtoken` verification.
    pub fn decoding_key(&self) -> jsonwebtoken::DecodingKey {
        jsonwebtoken::DecodingKey::from_rsa_components(&self.n_b64, &self.e_b64)
            .expect("a parsed RSA key has valid components")
    }
}

/// A P-256 signing key (ES256), for the faults that sign with an elliptic-curve key
/// beside Okta's RSA keys.
pub struct EcKey {
    kid: String,
    x_b64: String,
    y_b64: String,
    pair: aws_lc_rs::signature::EcdsaKeyPair,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EcKey {
    /// Parses a PKCS#8 PEM P-256 private key. `origin` names it in errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<Self, KeyError> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let err = |reason: String| KeyError::Parse {
            origin: origin.to_string(),
            expected: "a P-256 private key (PKCS#8)",
            reason,
        };
        let (_, der) = pem_der(pem).map_err(err)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|e| err(e.to_string()))?;
        // The public key is the uncompressed point: 0x04 || x || y, 32 bytes each.
        let point = pair.public_key().as_ref().to_vec();
        if point.len() != 65 || point[0] != 4 {
            return Err(err("not an uncompressed P-256 point".into()));
        }
        let x_b64 = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y_b64 = URL_SAFE_NO_PAD.encode(&point[33..]);
        // RFC 7638 3.2: crv, kty, x, y in lexicographic order.
        let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x_b64}","y":"{y_b64}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, thumb_input.as_bytes()).as_ref(),
        );
        Ok(Self {
            kid,
            x_b64,
            y_b64,
            pair,
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// ES256 signature over `message`: `r || s`, 32 bytes each (RFC 7518 3.4).
    pub fn sign_es256(&self, message: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&aws_lc_rs::rand::SystemRandom::new(), message)
            .expect("ECDSA signing failed")
            .as_ref()
            .to_vec()
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        json!({"kty": "EC", "alg": "ES256", "kid": self.kid, "use": "sig", "crv": "P-256", "x": self.x_b64, "y": self.y_b64})
    }
}

/// The fixture P-256 key (`fixtures/keys/ec1.pem`). A test key: its private half is public.
pub fn fixture_ec_key() -> Arc<EcKey> {
    Arc::new(
        EcKey::from_pem(
            include_str!("../../fixtures/keys/ec1.pem"),
            "fixtures/keys/ec1.pem",
        )
        .expect("the fixture EC key is valid PKCS#8"),
    )
}

/// The key of apps with a signing key of their own (Entra's custom signing key):
/// `fixtures/keys/key7.pem`, published only at `jwks_uri?appid={client_id}`. A test key:
/// its private half is public.
pub fn app_signing_key(personality: crate::personality::Personality) -> Arc<SigningKey> {
    let key = SigningKey::from_pem(
        include_str!("../../fixtures/keys/key7.pem"),
        "fixtures/keys/key7.pem",
    )
    .expect("the fixture app key is valid PKCS#8");
    Arc::new(if personality == crate::personality::Personality::Okta {
        key
    } else {
        key.as_published_by(
            personality,
            Some(include_str!("../../fixtures/keys/key7.crt")),
        )
    })
}

/// The fixture keys shipped in `fixtures/keys` (RSA-2048, PKCS#8). Test keys only: their
/// private halves are public.
pub fn fixture_keys() -> Vec<Arc<SigningKey>> {
    fixture_keys_for(crate::personality::Personality::Okta)
}

/// The fixture keys as `personality` publishes them (with their certificates,
/// `fixtures/keys/keyN.crt`, where the IdP publishes `x5c`).
pub fn fixture_keys_for(personality: crate::personality::Personality) -> Vec<Arc<SigningKey>> {
    const CERTS: [&str; 6] = [
        include_str!("../../fixtures/keys/key1.crt"),
        include_str!("../../fixtures/keys/key2.crt"),
        include_str!("../../fixtures/keys/key3.crt"),
        include_str!("../../fixtures/keys/key4.crt"),
        include_str!("../../fixtures/keys/key5.crt"),
        include_str!("../../fixtures/keys/key6.crt"),
    ];
    const PEMS: [(&str, &str); 6] = [
        (
            "fixtures/keys/key1.pem",
            include_str!("../../fixtures/keys/key1.pem"),
        ),
        (
            "fixtures/keys/key2.pem",
            include_str!("../../fixtures/keys/key2.pem"),
        ),
        (
            "fixtures/keys/key3.pem",
            include_str!("../../fixtures/keys/key3.pem"),
        ),
        (
            "fixtures/keys/key4.pem",
            include_str!("../../fixtures/keys/key4.pem"),
        ),
        (
            "fixtures/keys/key5.pem",
            include_str!("../../fixtures/keys/key5.pem"),
        ),
        (
            "fixtures/keys/key6.pem",
            include_str!("../../fixtures/keys/key6.pem"),
        ),
    ];
    PEMS.iter()
        .zip(CERTS)
        .map(|((origin, pem), cert)| {
            let key = SigningKey::fixture(pem)
                .unwrap_or_else(|| panic!("{origin}: fixture keys are valid PKCS#8 RSA keys"));
            Arc::new(if personality == crate::personality::Personality::Okta {
                key
            } else {
                key.as_published_by(personality, Some(cert))
            })
        })
        .collect()
}

/// The keys of one authorization server: the active one signs; the next one is published
/// ahead of use (as Okta does); a retired one may stay published for a while.
#[derive(Clone, Debug)]
pub struct KeyRing {
    pool: Vec<Arc<SigningKey>>,
    active: usize,
    retired: Option<usize>,
}

impl KeyRing {
    /// A ring over `pool`, starting at index `start`. The pool needs at least two keys.
    pub fn new(pool: Vec<Arc<SigningKey>>, start: usize) -> Self {
        assert!(pool.len() >= 2, "a key ring needs at least two keys");
        let active = start % pool.len();
        Self {
            pool,
            active,
            retired: None,
        }
    }

    /// The key that signs now.
    pub fn active(&self) -> &Arc<SigningKey> {
        &self.pool[self.active]
    }

    fn next_index(&self) -> usize {
        (self.active + 1) % self.pool.len()
    }

    /// The published keys: active, next, and the retired one if kept.
    pub fn published(&self) -> Vec<&Arc<SigningKey>> {
        let mut keys = vec![&self.pool[self.active], &self.pool[self.next_index()]];
        if let Some(r) = self.retired {
            if r != self.active && r != self.next_index() {
                keys.push(&self.pool[r]);
            }
        }
        keys
    }

    /// A published key by `kid`.
    pub fn find(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.published().into_iter().find(|k| k.kid() == kid)
    }

    /// Rotates: the next key becomes active, a new next key is published, and the old
    /// active key stays published (`keep_old`) or is dropped.
    pub fn rotate(&mut self, keep_old: bool) {
        let old = self.active;
        self.active = self.next_index();
        self.retired = keep_old.then_some(old);
    }

    /// The JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        json!({"keys": self.published().iter().map(|k| k.jwk()).collect::<Vec<_>>()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ec_key_signs_what_jsonwebtoken_verifies() {
        let k = fixture_ec_key();
        assert_eq!(k.kid().len(), 43);
        let jwk = k.jwk();
        let key = jsonwebtoken::DecodingKey::from_ec_components(
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap(),
        )
        .unwrap();
        let mut claims = crate::jwt::Claims::new();
        claims.insert("sub".into(), "00u1".into());
        let token = crate::jwt::sign_es256(&claims, &k);
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        assert!(jsonwebtoken::decode::<crate::jwt::Claims>(&token, &key, &v).is_ok());
    }

    #[test]
    fn fixture_keys_have_thumbprint_kids_and_rotate() {
        let pool = fixture_keys();
        assert!(pool.iter().all(|k| k.kid().len() == 43));
        let mut ring = KeyRing::new(pool.clone(), 0);
        let first = ring.active().kid().to_string();
        let second = ring.published()[1].kid().to_string();
        ring.rotate(true);
        assert_eq!(ring.active().kid(), second);
        assert!(ring.find(&first).is_some(), "old key kept");
        ring.rotate(false);
        assert!(ring.find(&first).is_none(), "old key dropped");
        assert_eq!(ring.published().len(), 2);
    }

    #[test]
    fn a_pkcs1_key_is_the_same_key_as_its_pkcs8_form() {
        let pkcs8 =
            SigningKey::from_pem(include_str!("../../fixtures/keys/key1.pem"), "key1.pem").unwrap();
        let pkcs1 = SigningKey::from_pem(
            include_str!("../../fixtures/keys/key1-pkcs1.pem"),
            "key1-pkcs1.pem",
        )
        .unwrap();
        assert_eq!(pkcs1.kid(), pkcs8.kid());
        assert_eq!(pkcs1.jwk(), pkcs8.jwk());
    }

    #[test]
    fn the_published_modulus_and_exponent_verify_the_signatures() {
        // jsonwebtoken (third party) verifies with the JWK's n and e alone.
        for key in fixture_keys() {
            assert_eq!(key.e_b64, "AQAB");
            assert!(!key.n_b64.starts_with('A'), "n has no leading zero byte");
            let input = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
            let sig = URL_SAFE_NO_PAD.encode(key.sign_rs256(input.as_bytes()));
            let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            v.required_spec_claims.clear();
            v.validate_exp = false;
            jsonwebtoken::decode::<serde_json::Value>(
                format!("{input}.{sig}"),
                &key.decoding_key(),
                &v,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", key.kid()));
        }
    }

    #[test]
    fn a_fixture_key_read_before_parsing_is_the_key_aws_lc_parses() {
        for i in 1..=6 {
            let pem = std::fs::read_to_string(format!(
                "{}/../fixtures/keys/key{i}.pem",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let lazy = SigningKey::fixture(&pem).unwrap();
            assert!(lazy.pair.get().is_none(), "key{i}: not parsed before use");
            let parsed = SigningKey::from_pem(&pem, "key.pem").unwrap();
            assert_eq!(
                (&lazy.kid, &lazy.n_b64, &lazy.e_b64),
                (&parsed.kid, &parsed.n_b64, &parsed.e_b64),
                "key{i}"
            );
            // Deterministic (PKCS#1 v1.5): the same signature once parsed on first use.
            assert_eq!(lazy.sign_rs256(b"x"), parsed.sign_rs256(b"x"), "key{i}");
        }
    }

    #[test]
    fn a_broken_pkcs8_structure_gives_no_public_key() {
        let pem = include_str!("../../fixtures/keys/key1.pem");
        let (_, der) = pem_der(pem).unwrap();
        assert!(pkcs8_rsa_public(&der).is_some());
        // Every truncation, and another outer tag, is refused without a panic.
        for end in 0..der.len() {
            assert!(pkcs8_rsa_public(&der[..end]).is_none(), "cut at {end}");
        }
        let mut wrong = der.clone();
        wrong[0] = 0x31;
        assert!(pkcs8_rsa_public(&wrong).is_none());
        // An EC key's PKCS#8 holds no RSAPrivateKey.
        let (_, ec) = pem_der(include_str!("../../fixtures/keys/ec1.pem")).unwrap();
        assert!(pkcs8_rsa_public(&ec).is_none());
        assert!(SigningKey::fixture(include_str!("../../fixtures/keys/ec1.pem")).is_none());
    }

    #[test]
    fn a_bad_key_is_named_with_what_was_expected() {
        let msg = |pem: &str| {
            SigningKey::from_pem(pem, "tenant.toml: keys[1]")
                .expect_err("refused")
                .to_string()
        };
        let m = msg("not a key");
        assert!(
            m.starts_with("tenant.toml: keys[1]: expected an RSA private key (PKCS#8 or PKCS#1)")
                && m.contains("no -----BEGIN"),
            "{m}"
        );
        let m = msg(include_str!("../../fixtures/keys/key1.crt"));
        assert!(m.contains(r#"labelled "CERTIFICATE""#), "{m}");
        let m = msg(include_str!("../../fixtures/keys/ec1.pem"));
        assert!(m.contains("aws-lc rejected the key"), "{m}");
        let m = msg("-----BEGIN PRIVATE KEY-----\nMIIB\n");
        assert!(m.contains("no -----END PRIVATE KEY----- line"), "{m}");
    }
}
