//! Minting JWTs from raw header and payload maps, and verifying the ones we issued.
//!
//! Tokens are built from `serde_json` maps (which keep insertion order, so claims come out
//! in Okta's order) and signed over the raw signing input. Nothing here refuses a strange
//! header or payload: the fault catalog needs to mint tokens a typed builder would reject.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::keys::SigningKey;

/// A JSON object in insertion order.
pub type Claims = Map<String, Value>;

/// The RS256 JWS compact serialization of `header` and `payload` signed with `key`
/// (RFC 7515 section 7.1: `BASE64URL(header) || '.' || BASE64URL(payload) || '.' || BASE64URL(sig)`).
pub fn sign_rs256(header: &Claims, payload: &Claims, key: &SigningKey) -> String {
    let mut token = signing_input(header, payload);
    let sig = key.sign_rs256(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut token);
    token
}

/// The ES256 JWS of `payload` signed with `key`, header `{"kid", "alg": "ES256"}`.
pub fn sign_es256(payload: &Claims, key: &crate::keys::EcKey) -> String {
    let mut header = Claims::new();
    header.insert("kid".into(), Value::String(key.kid().to_string()));
    header.insert("alg".into(), Value::String("ES256".into()));
    let mut token = signing_input(&header, payload);
    let sig = key.sign_es256(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut token);
    token
}

/// `BASE64URL(header) '.' BASE64URL(payload)` for any header and payload.
pub fn signing_input(header: &Claims, payload: &Claims) -> String {
    let h = serde_json::to_vec(header).expect("a JSON map always serializes");
    let p = serde_json::to_vec(payload).expect("a JSON map always serializes");
    let mut out = String::with_capacity((h.len() + p.len()) * 4 / 3 + 4);
    URL_SAFE_NO_PAD.encode_string(h, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(p, &mut out);
    out
}

/// The standard header of our tokens: `{"kid": …, "alg": "RS256"}` in Okta's order.
pub fn rs256_header(key: &SigningKey) -> Claims {
    use crate::personality::Personality as P;
    let mut h = Claims::new();
    let kid = Value::String(key.kid().to_string());
    let alg = Value::String("RS256".into());
    let typ = Value::String("JWT".into());
    // Members in the order each IdP writes them (../shared/reference/*/id-token*.json).
    match key.personality() {
        P::Okta | P::Cognito | P::Generic | P::Pingfederate | P::Pingone => {
            h.insert("kid".into(), kid);
            h.insert("alg".into(), alg);
        }
        P::Entra | P::Adfs => {
            h.insert("typ".into(), typ);
            h.insert("alg".into(), alg);
            if let Some(x5t) = key.x5t().filter(|_| key.personality() == P::Adfs) {
                h.insert("x5t".into(), x5t.into());
            }
            h.insert("kid".into(), kid);
        }
        P::Auth0 | P::Keycloak => {
            h.insert("alg".into(), alg);
            h.insert("typ".into(), typ);
            h.insert("kid".into(), kid);
        }
        P::Google => {
            h.insert("alg".into(), alg);
            h.insert("kid".into(), kid);
            h.insert("typ".into(), typ);
        }
    }
    h
}

/// The left half of the SHA-256 of `value`, base64url: `at_hash` and `c_hash`
/// (OIDC Core 3.1.3.6 and 3.3.2.11, for RS256).
pub fn half_hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// A token as the journal shows it: `{"header": …, "payload": …}`. Built from the maps
/// themselves: `json!` would copy them through a serializer.
pub fn shown(header: Claims, payload: Claims) -> Value {
    let mut shown = Claims::new();
    shown.insert("header".into(), header.into());
    shown.insert("payload".into(), payload.into());
    shown.into()
}

/// Decodes a compact JWS without checking anything: header and payload as JSON.
pub fn decode_unverified(token: &str) -> Option<(Claims, Claims)> {
    let mut parts = token.split('.');
    let (h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let h: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let p: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
    Some((h, p))
}

/// Verifies an RS256 token's signature with `jsonwebtoken` and returns its claims. Time
/// and audience are not checked here: the caller does that against the IdP's own clock.
pub fn verify_rs256(token: &str, key: &SigningKey) -> Option<Claims> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Claims>(token, &key.decoding_key(), &validation)
        .ok()
        .map(|data| data.claims)
}

/// The header `header` is signed with when it carries a `nonce` as Microsoft Graph's access
/// tokens do: the nonce replaced by its SHA-256 (base64url). The token shows the nonce
/// itself, so its signature verifies for nobody who does not know to hash it (Graph
/// alone accepts such tokens).
fn nonce_hashed(header: &Claims) -> Option<Claims> {
    let nonce = header.get("nonce")?.as_str()?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, nonce.as_bytes());
    let mut h = header.clone();
    h.insert(
        "nonce".into(),
        URL_SAFE_NO_PAD.encode(digest.as_ref()).into(),
    );
    Some(h)
}

/// A token whose header has a `nonce` (Graph's access tokens), signed over the header
/// with the nonce hashed: its signature does not verify as presented.
pub fn sign_rs256_nonce_hashed(header: &Claims, payload: &Claims, key: &SigningKey) -> String {
    let signed = nonce_hashed(header).unwrap_or_else(|| header.clone());
    let sig = key.sign_rs256(signing_input(&signed, payload).as_bytes());
    let mut token = signing_input(header, payload);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut token);
    token
}

/// Verifies a token minted by [`sign_rs256_nonce_hashed`] (as Graph does, knowing to hash
/// the header's nonce); its claims.
pub fn verify_rs256_nonce_hashed(token: &str, key: &SigningKey) -> Option<Claims> {
    let (header, _) = decode_unverified(token)?;
    let signed = nonce_hashed(&header)?;
    let mut parts = token.splitn(2, '.');
    let (_, rest) = (parts.next()?, parts.next()?);
    let h = serde_json::to_vec(&signed).ok()?;
    let rebuilt = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(h));
    verify_rs256(&rebuilt, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::fixture_keys;

    #[test]
    fn a_nonce_hashed_token_verifies_only_when_the_nonce_is_hashed() {
        let key = &fixture_keys()[0];
        let mut header = rs256_header(key);
        header.insert("nonce".into(), "abc".into());
        let mut payload = Claims::new();
        payload.insert("sub".into(), "x".into());
        let token = sign_rs256_nonce_hashed(&header, &payload, key);
        assert!(verify_rs256(&token, key).is_none());
        assert_eq!(verify_rs256_nonce_hashed(&token, key), Some(payload));
    }

    #[test]
    fn signed_tokens_verify_and_keep_claim_order() {
        let keys = fixture_keys();
        let mut payload = Claims::new();
        payload.insert("sub".into(), "00u1".into());
        payload.insert("ver".into(), 1.into());
        let token = sign_rs256(&rs256_header(&keys[0]), &payload, &keys[0]);
        let claims = verify_rs256(&token, &keys[0]).expect("verifies");
        assert_eq!(claims.keys().collect::<Vec<_>>(), ["sub", "ver"]);
        assert!(
            verify_rs256(&token, &keys[1]).is_none(),
            "other key must not verify"
        );
        let (h, _) = decode_unverified(&token).unwrap();
        assert_eq!(h.keys().collect::<Vec<_>>(), ["kid", "alg"]);
    }

    #[test]
    fn half_hash_matches_oidc_example() {
        // OIDC Core A.3/A.4 example access token and its at_hash.
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
