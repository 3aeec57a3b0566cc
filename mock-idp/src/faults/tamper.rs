//! How each fault changes what the IdP sends. Every function here takes the faults that
//! fired and the value the IdP was about to send, and changes only what the fault says.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{Fault, FaultId};
use crate::ids::{random_b64, random_okta_id, stable_okta_id};
use crate::jwt::{self, Claims};
use crate::state::{ServerCtx, Shared};

/// A value of the same length and alphabet as `s`, but different: a plausible wrong one.
pub fn scramble(s: &str) -> String {
    let fresh = random_b64(s.len().max(8));
    let mut out: String = fresh
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(s.len())
        .collect();
    while out.len() < s.len() {
        out.push('x');
    }
    if out == s {
        out = out.chars().rev().collect::<String>();
        if out == s {
            out.replace_range(..1, if s.starts_with('Z') { "Y" } else { "Z" });
        }
    }
    out
}

/// Another issuer of this IdP: `default` for the org server, the org for a custom one.
pub fn other_issuer(shared: &Shared, srv: &ServerCtx) -> String {
    let p = shared.personality;
    if p == crate::personality::Personality::Okta {
        return if srv.is_org() {
            format!("{}/oauth2/default", shared.origin)
        } else {
            shared.origin.clone()
        };
    }
    // Another tenant, realm or environment of the same IdP where it has them (Entra's
    // other tenant is the classic); else a path of the same host.
    let other = p.issuer(&shared.origins, "harness-other-tenant");
    if other != srv.issuer {
        other
    } else if p == crate::personality::Personality::Auth0 {
        format!("{}/other-tenant/", shared.origin)
    } else {
        format!("{}/other-tenant", shared.origin)
    }
}

fn insert_after(map: &mut Claims, after: &str, key: &str, value: Value) {
    if map.contains_key(key) {
        map.insert(key.to_string(), value);
        return;
    }
    let mut out = Claims::new();
    let mut placed = false;
    for (k, v) in std::mem::take(map) {
        let here = k == after;
        out.insert(k, v);
        if here {
            out.insert(key.to_string(), value.clone());
            placed = true;
        }
    }
    if !placed {
        out.insert(key.to_string(), value);
    }
    *map = out;
}

fn groups_param(f: &Fault) -> Value {
    let list = f.param.as_deref().unwrap_or("Everyone,harness-unexpected");
    Value::from(
        list.split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .collect::<Vec<_>>(),
    )
}

/// Claims-level ID token faults (OIDC Core 3.1.3.7 lists what an RP must check; each of
/// these breaks one of those checks).
pub fn id_token_claims(shared: &Shared, srv: &ServerCtx, faults: &[Fault], c: &mut Claims) {
    let now = shared.clock.now();
    for f in faults {
        match f.id {
            FaultId::IssMismatch => {
                c.insert("iss".into(), other_issuer(shared, srv).into());
            }
            FaultId::AudMismatch => {
                let aud = f.param.clone().unwrap_or_else(|| random_okta_id("0oa"));
                c.insert("aud".into(), aud.into());
            }
            FaultId::AudMissing => {
                c.remove("aud");
            }
            FaultId::IssWithoutScheme => {
                let bare = srv
                    .issuer
                    .split_once("://")
                    .map_or(srv.issuer.as_str(), |(_, rest)| rest);
                c.insert("iss".into(), bare.into());
            }
            FaultId::IssMissing => {
                c.remove("iss");
            }
            FaultId::AudExtra => {
                if let Some(aud) = c.get("aud").cloned() {
                    let extra = Value::from(random_okta_id("0oa"));
                    c.insert("aud".into(), Value::Array(vec![aud, extra]));
                }
                c.remove("azp");
            }
            FaultId::AzpMismatch => {
                insert_after(c, "aud", "azp", random_okta_id("0oa").into());
            }
            FaultId::AudArray => {
                if let Some(aud) = c.get("aud").cloned() {
                    c.insert("aud".into(), Value::Array(vec![aud]));
                }
            }
            FaultId::NbfInFuture => {
                insert_after(c, "iat", "nbf", (now + 3600).into());
            }
            FaultId::IatWeekOld => {
                c.insert("iat".into(), (now - 7 * 86_400).into());
            }
            FaultId::SubMissing => {
                c.remove("sub");
            }
            FaultId::IatMissing => {
                c.remove("iat");
            }
            FaultId::ExpMissing => {
                c.remove("exp");
            }
            FaultId::Expired => {
                c.insert("iat".into(), (now - 7200).into());
                c.insert("exp".into(), (now - 3600).into());
            }
            FaultId::IssuedInFuture => {
                c.insert("iat".into(), (now + 3600).into());
                c.insert("exp".into(), (now + 7200).into());
            }
            FaultId::NonceMissing => {
                c.remove("nonce");
            }
            FaultId::NonceMismatch => {
                let wrong = match c.get("nonce").and_then(Value::as_str) {
                    Some(n) => scramble(n),
                    None => random_b64(16),
                };
                insert_after(c, "idp", "nonce", wrong.into());
            }
            FaultId::AtHashBad => {
                insert_after(
                    c,
                    "auth_time",
                    "at_hash",
                    jwt::half_hash(&random_b64(32)).into(),
                );
            }
            FaultId::AtHashMissing => {
                c.remove("at_hash");
            }
            FaultId::CHashBad => {
                let after = if c.contains_key("at_hash") {
                    "at_hash"
                } else {
                    "auth_time"
                };
                insert_after(c, after, "c_hash", jwt::half_hash(&random_b64(32)).into());
            }
            FaultId::CHashMissing => {
                c.remove("c_hash");
            }
            FaultId::EmailMissing => {
                c.remove("email");
                c.remove("email_verified");
            }
            FaultId::EmailUnverified => insert_after(c, "email", "email_verified", false.into()),
            FaultId::GroupsChanged => {
                let claim = srv.groups_claim.clone().unwrap_or_else(|| "groups".into());
                c.insert(claim, groups_param(f));
            }
            _ => {}
        }
    }
}

/// The `sub` of another user than the one of these claims (stable for a given user).
fn someone_else(c: &Claims) -> String {
    let sub = c.get("sub").and_then(Value::as_str).unwrap_or("");
    stable_okta_id("00u", &format!("someone else than {sub}"))
}

/// Refresh-response faults on the claims of the refreshed ID token (OIDC Core 12.2 lists
/// what must stay as it was at login).
pub fn refresh_id_token_claims(shared: &Shared, srv: &ServerCtx, faults: &[Fault], c: &mut Claims) {
    for f in faults {
        match f.id {
            FaultId::RefreshIssMismatch => {
                c.insert("iss".into(), other_issuer(shared, srv).into());
            }
            FaultId::RefreshSubMismatch => {
                let other = someone_else(c);
                c.insert("sub".into(), other.into());
            }
            _ => {}
        }
    }
}

/// Token response faults on the body's members (the tokens themselves are left alone).
pub fn token_response_members(faults: &[Fault], map: &mut serde_json::Map<String, Value>) {
    for f in faults {
        match f.id {
            FaultId::IdTokenMissing => {
                map.remove("id_token");
            }
            FaultId::AccessTokenMissing => {
                map.remove("access_token");
            }
            FaultId::ScopeMissing => {
                map.remove("scope");
            }
            FaultId::ExpiresInMissing => {
                map.remove("expires_in");
            }
            FaultId::TokenTypeLowercase => {
                map.insert("token_type".into(), "bearer".into());
            }
            FaultId::ExpiresInString => {
                if let Some(v) = map.get("expires_in").cloned() {
                    map.insert("expires_in".into(), v.to_string().into());
                }
            }
            _ => {}
        }
    }
}

/// Flips one bit in the middle of a compact JWS's signature.
pub fn corrupt(token: &str) -> String {
    let (input, sig) = token
        .rsplit_once('.')
        .expect("a signed JWT has three parts");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("we encoded it");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Signs an ID token as the first signature fault says (or normally when there is none).
pub fn sign_id_token(
    shared: &Shared,
    srv: &ServerCtx,
    fault: Option<&Fault>,
    claims: &Claims,
    client_secret: Option<&str>,
    client_id: &str,
) -> String {
    let key = shared.id_token_key(&srv.id, client_id);
    let Some(fault) = fault else {
        return jwt::sign_rs256(&jwt::rs256_header(&key), claims, &key);
    };
    let alg_only = |alg: &str| {
        let mut h = Claims::new();
        h.insert("alg".into(), alg.into());
        h
    };
    match fault.id {
        FaultId::BadSignature => corrupt(&jwt::sign_rs256(&jwt::rs256_header(&key), claims, &key)),
        FaultId::Es256 => jwt::sign_es256(claims, &shared.ec_key),
        FaultId::Es256BadSignature => corrupt(&jwt::sign_es256(claims, &shared.ec_key)),
        FaultId::AlgNone | FaultId::AlgNoneWithAtHash => {
            format!("{}.", jwt::signing_input(&alg_only("none"), claims))
        }
        FaultId::Hs256WithClientSecret | FaultId::Hs256BadSignature => {
            let input = jwt::signing_input(&alg_only("HS256"), claims);
            let secret = client_secret.unwrap_or(client_id);
            let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            let tag = aws_lc_rs::hmac::sign(&k, input.as_bytes());
            let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
            if fault.id == FaultId::Hs256BadSignature {
                corrupt(&token)
            } else {
                token
            }
        }
        FaultId::UnknownKid => {
            let published: Vec<String> = shared.with_ring(&srv.id, |r| {
                r.published().iter().map(|k| k.kid().to_string()).collect()
            });
            let other = shared
                .key_pool
                .iter()
                .find(|k| !published.iter().any(|p| p == k.kid()))
                .cloned()
                .unwrap_or_else(|| key.clone());
            jwt::sign_rs256(&jwt::rs256_header(&other), claims, &other)
        }
        FaultId::KidAbsentSingleKey | FaultId::KidAbsentSeveralKeys => {
            jwt::sign_rs256(&alg_only("RS256"), claims, &key)
        }
        _ => jwt::sign_rs256(&jwt::rs256_header(&key), claims, &key),
    }
}

/// Authorization response faults on the parameters about to be sent.
pub fn authorization_params(
    shared: &Shared,
    srv: &ServerCtx,
    faults: &[Fault],
    out: &mut Vec<(String, String)>,
) {
    for f in faults {
        match f.id {
            FaultId::StateMissing => out.retain(|(k, _)| k != "state"),
            FaultId::StateMismatch => {
                for (k, v) in out.iter_mut() {
                    if k == "state" {
                        *v = scramble(v);
                    }
                }
            }
            FaultId::CodeMissing => out.retain(|(k, _)| k != "code"),
            FaultId::IssParamMismatch => out.push(("iss".into(), other_issuer(shared, srv))),
            _ => {}
        }
    }
}

/// Userinfo faults on the claims about to be sent.
pub fn userinfo_claims(srv: &ServerCtx, faults: &[Fault], c: &mut Claims) {
    for f in faults {
        match f.id {
            FaultId::UserinfoSubMismatch => {
                // Another user altogether, so that whoever reads the answer shows it.
                let other = someone_else(c);
                c.insert("sub".into(), other.into());
                let domain = c
                    .get("email")
                    .and_then(Value::as_str)
                    .and_then(|e| e.split_once('@'))
                    .map_or("example.com".to_string(), |(_, d)| d.to_string());
                let other = format!("someone.else@{domain}");
                for (k, v) in [
                    ("name", "Someone Else".to_string()),
                    ("email", other.clone()),
                    ("preferred_username", other),
                ] {
                    if c.contains_key(k) {
                        c.insert(k.into(), v.into());
                    }
                }
            }
            FaultId::UserinfoEmailMissing => {
                c.remove("email");
                c.remove("email_verified");
            }
            FaultId::EmailUnverified => {
                c.insert("email_verified".into(), false.into());
            }
            FaultId::GroupsChanged => {
                let claim = srv.groups_claim.clone().unwrap_or_else(|| "groups".into());
                c.insert(claim, groups_param(f));
            }
            _ => {}
        }
    }
}

/// JSON cut in the middle (at a character boundary).
pub fn truncate_json(text: &str) -> String {
    let mut cut = text.len() / 2;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_string()
}
