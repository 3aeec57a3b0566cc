//! One defect per negative token, judged by third-party code: every ID token fault's token
//! is checked by the `openidconnect` crate's verifier, one check at a time with the others
//! relaxed, and must fail exactly the checks the fault is about. A token with a second
//! defect would let an RP refuse it for the wrong reason, and a scenario pass for it.

use std::collections::BTreeSet;

use mock_idp::faults::{CATALOG, Fault, FaultId, Strikes};
use mock_idp::{Clock, MockIdp};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, AuthorizationCodeHash, ClientId, ClientSecret,
    IssuerUrl, JsonWebKey, Nonce,
};
use serde_json::Value;

use crate::common::*;

const NOW: i64 = 1_800_000_000;
const NONCE: &str = "nonce-0123456789abcdef";

/// One check of OIDC Core 3.1.3.7 / 3.1.3.8 / 3.3.2.11, as the reference verifier makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Check {
    /// Step 6-7: the signature, with the algorithm registered (RS256) and a published key.
    Signature,
    /// Step 2: `iss`.
    Issuer,
    /// Step 3: `aud`.
    Audience,
    /// Step 9: `exp`.
    Expiry,
    /// Step 10: `iat` not in the future.
    IssuedAt,
    /// Step 11: `nonce`.
    Nonce,
    /// 3.1.3.8: `at_hash`, when present, matches the access token.
    AtHash,
    /// 3.3.2.11: `c_hash`, required when the token comes with a code from authorize.
    CHash,
}

const CHECKS: [Check; 8] = [
    Check::Signature,
    Check::Issuer,
    Check::Audience,
    Check::Expiry,
    Check::IssuedAt,
    Check::Nonce,
    Check::AtHash,
    Check::CHash,
];

/// What the IdP issued in one login with the fault armed.
struct Issued {
    id_token: String,
    access_token: Option<String>,
    /// The code issued with the ID token at authorize (hybrid flow).
    code: Option<String>,
    jwks: CoreJsonWebKeySet,
    issuer: String,
    /// Checked as by a client registered for ES256.
    es256: bool,
    /// The ID token of a refresh response: no nonce to compare (OIDC Core 12.2).
    refresh: bool,
}

/// The checks a token fails, each made alone (the others relaxed), or the parse error.
fn failing(t: &Issued) -> Result<BTreeSet<Check>, String> {
    let token: CoreIdToken =
        serde_json::from_value(Value::String(t.id_token.clone())).map_err(|e| e.to_string())?;
    let mut out = BTreeSet::new();
    for check in CHECKS {
        if !passes(t, &token, check) {
            out.insert(check);
        }
    }
    Ok(out)
}

fn passes(t: &Issued, token: &CoreIdToken, check: Check) -> bool {
    let mut v = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(WEB.into()),
        ClientSecret::new(WEB_SECRET.into()),
        IssuerUrl::new(t.issuer.clone()).unwrap(),
        t.jwks.clone(),
    )
    .require_issuer_match(check == Check::Issuer)
    .require_audience_match(check == Check::Audience);
    if t.es256 {
        // As a client registered for ES256 (id_token_signed_response_alg) checks it.
        v = v.set_allowed_algs(vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ]);
    }
    if check != Check::Signature {
        v = v.insecure_disable_signature_check();
    }
    // The verifier's clock: the IdP's frozen `now` for the time checks, otherwise a
    // moment inside the token's own validity.
    let claims_time = |name: &str| {
        mock_idp::jwt::decode_unverified(&t.id_token)
            .and_then(|(_, p)| p.get(name).and_then(Value::as_i64))
    };
    let at = if check == Check::Expiry {
        NOW
    } else {
        claims_time("iat").unwrap_or(NOW)
    };
    v = v.set_time_fn(move || chrono_at(at));
    if check == Check::IssuedAt {
        v = v.set_issue_time_verifier_fn(|iat| {
            if iat.timestamp() <= NOW + 60 {
                Ok(())
            } else {
                Err(format!("iat {iat} is in the future"))
            }
        });
    }
    let nonce = Nonce::new(NONCE.into());
    let verified = if check == Check::Nonce && !t.refresh {
        token.claims(&v, &nonce).cloned()
    } else {
        token.claims(&v, |_: Option<&Nonce>| Ok(())).cloned()
    };
    let Ok(claims) = verified else {
        return false;
    };
    let alg = token.signing_alg();
    match check {
        Check::AtHash => match (claims.access_token_hash(), &t.access_token) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(at)) => alg.ok().is_some_and(|alg| {
                AccessTokenHash::from_token(&AccessToken::new(at.clone()), alg, &hash_key(t, alg))
                    .is_ok_and(|h| &h == want)
            }),
        },
        Check::CHash => match (claims.code_hash(), &t.code) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(_), None) => false,
            (Some(want), Some(code)) => alg.ok().is_some_and(|alg| {
                AuthorizationCodeHash::from_code(
                    &AuthorizationCode::new(code.clone()),
                    alg,
                    &hash_key(t, alg),
                )
                .is_ok_and(|h| &h == want)
            }),
        },
        _ => true,
    }
}

/// The key whose algorithm family hashes for `at_hash`/`c_hash`: the client secret for
/// HS256 (openidconnect refuses to hash HS256 with an RSA key), else a published key of
/// the token's family.
fn hash_key(t: &Issued, alg: &CoreJwsSigningAlgorithm) -> CoreJsonWebKey {
    if *alg == CoreJwsSigningAlgorithm::HmacSha256 {
        return CoreJsonWebKey::new_symmetric(WEB_SECRET.as_bytes().to_vec());
    }
    let family = if *alg == CoreJwsSigningAlgorithm::EcdsaP256Sha256 {
        "EC"
    } else {
        "RSA"
    };
    t.jwks
        .keys()
        .iter()
        .find(|k| serde_json::to_value(k).is_ok_and(|v| v["kty"] == family))
        .expect("the JWKS has a key of the token's family")
        .clone()
}

fn chrono_at(unix: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(unix, 0).expect("a valid time")
}

/// Logs Alice in with `fault` armed: the code flow (token endpoint) or, for the c_hash
/// faults, `code id_token` (authorize); for the refresh faults, the ID token of a refresh.
async fn issue(fault: FaultId) -> Issued {
    let idp = MockIdp::builder()
        .clock(Clock::frozen(NOW))
        .start()
        .await
        .unwrap();
    let armed = if fault.doc().scoped {
        Fault::new(fault).for_user(ALICE)
    } else {
        Fault::new(fault)
    };
    let _guard = idp.arm(armed).unwrap();
    let es256 = matches!(fault, FaultId::Es256 | FaultId::Es256BadSignature);
    let c = browser();
    let (verifier, challenge) = pkce();
    let hybrid = matches!(fault, FaultId::CHashBad | FaultId::CHashMissing);
    let mut params = code_params(&challenge);
    params.retain(|(k, _)| *k != "nonce");
    params.push(("nonce", NONCE));
    if hybrid {
        params.retain(|(k, _)| *k != "response_type");
        params.push(("response_type", "code id_token"));
    }
    let resp = sign_in(
        &c,
        &authorize_url(&idp, "default", &params),
        ALICE,
        ALICE_PW,
    )
    .await;
    let loc = location(&resp);
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(get_json(&c, endpoint(&idp, "default", "keys")).await).unwrap();
    let issuer = idp.issuer("default");
    if hybrid {
        return Issued {
            id_token: fragment(&loc, "id_token").expect("an ID token in the fragment"),
            access_token: None,
            code: fragment(&loc, "code"),
            jwks,
            issuer,
            es256,
            refresh: false,
        };
    }
    let code = query(&loc, "code").expect("a code");
    let mut body: Value = redeem(&idp, &c, "default", &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    if fault.strikes_at(Strikes::RefreshIdToken) {
        let rt = body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_string();
        body = web_token(
            &idp,
            &c,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    }
    Issued {
        id_token: body["id_token"].as_str().expect("an ID token").into(),
        access_token: body["access_token"].as_str().map(str::to_string),
        code: None,
        jwks,
        issuer,
        es256,
        refresh: fault.strikes_at(Strikes::RefreshIdToken),
    }
}

/// What each ID token fault must fail, and nothing else: checks, or the claim whose
/// absence stops the token from parsing.
fn intended(id: FaultId) -> Result<Vec<Check>, &'static str> {
    use Check::*;
    use FaultId as F;
    Ok(match id {
        F::BadSignature
        | F::AlgNone
        | F::Hs256WithClientSecret
        | F::Hs256BadSignature
        | F::UnknownKid
        | F::Es256BadSignature => {
            vec![Signature]
        }
        // Checked as by a client registered for ES256: valid.
        F::Es256 => vec![],
        // Two defects on purpose: unsigned, and an at_hash no one can check for alg none.
        F::AlgNoneWithAtHash => vec![Signature, AtHash],
        // Without `kid`, the one published key verifies it; with several, openidconnect
        // refuses to guess (OIDC Core 10.1: a kid MUST be given then; the RP may refuse).
        F::KidAbsentSingleKey => vec![],
        F::KidAbsentSeveralKeys => vec![Signature],
        F::IssMismatch | F::RefreshIssMismatch => vec![Issuer],
        // The scheme-less form Google tells its RPs to accept is not even an issuer URL to
        // a client that goes by the specifications alone (OIDC Core 2: `iss` is an https
        // URL): it refuses to parse the token.
        F::IssWithoutScheme => return Err(NOT_A_URL),
        // OIDC Core 3.1.3.7 step 3: an audience the client does not trust; step 5: `azp`
        // must be the client.
        F::AudMismatch | F::AudMissing | F::AudExtra => vec![Audience],
        // Step 5 (`azp` SHOULD be the client) is not among openidconnect's checks when
        // `aud` is the client alone; the sample RP makes it.
        F::AzpMismatch => vec![],
        // Valid: `aud` may be an array (RFC 7519 4.1.3); a week-old `iat` is the RP's
        // call (step 10); `nbf` is not among the checks of OIDC Core; a refreshed token
        // about another user is for the RP to notice against the login (12.2).
        F::AudArray | F::IatWeekOld | F::NbfInFuture | F::RefreshSubMismatch => vec![],
        F::IssMissing => return Err("iss"),
        F::Expired => vec![Expiry],
        F::IssuedInFuture => vec![IssuedAt],
        F::NonceMissing | F::NonceMismatch => vec![Nonce],
        F::AtHashBad => vec![AtHash],
        F::CHashBad | F::CHashMissing => vec![CHash],
        // Valid tokens: at_hash is optional at the token endpoint; the rest are claims an
        // RP reads after validation.
        F::AtHashMissing
        | F::EmailMissing
        | F::EmailUnverified
        | F::GroupsChanged
        | F::AppClaimsMissing => vec![],
        F::SubMissing => return Err("sub"),
        F::IatMissing => return Err("iat"),
        F::ExpMissing => return Err("exp"),
        other => panic!("{other} is not an ID token fault"),
    })
}

fn id_token_faults() -> Vec<FaultId> {
    CATALOG
        .iter()
        .filter(|d| {
            d.strikes.iter().any(|p| {
                matches!(
                    p,
                    Strikes::IdTokenClaims | Strikes::IdTokenSignature | Strikes::RefreshIdToken
                )
            })
        })
        .map(|d| d.id)
        .collect()
}

/// What the reference verifier says of an `iss` that is not a URL.
const NOT_A_URL: &str = "relative URL without a base";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tampered_id_token_fails_the_reference_verifier_for_its_reason_only() {
    let mut problems = Vec::new();
    let faults = id_token_faults();
    assert!(faults.len() >= 20, "{faults:?}");
    for id in faults {
        let issued = issue(id).await;
        let got = failing(&issued);
        match (intended(id), got) {
            (Ok(want), Ok(got)) => {
                let want: BTreeSet<Check> = want.into_iter().collect();
                if want != got {
                    problems.push(format!("{id}: fails {got:?}, expected {want:?}"));
                }
            }
            (Err(NOT_A_URL), Err(e)) => {
                if !e.contains(NOT_A_URL) {
                    problems.push(format!("{id}: does not parse, but not for its URL: {e}"));
                }
            }
            (Err(claim), Err(e)) => {
                if !e.contains(&format!("`{claim}`")) && !e.contains(claim) {
                    problems.push(format!("{id}: does not parse, but not for `{claim}`: {e}"));
                }
                // The rest of the token is untouched: signed as usual (fault_cases.rs
                // checks that the payload differs from a normal one only there).
                let (header, payload) = mock_idp::jwt::decode_unverified(&issued.id_token).unwrap();
                if header.get("alg").and_then(Value::as_str) != Some("RS256")
                    || payload.contains_key(claim)
                {
                    problems.push(format!("{id}: expected an RS256 token without `{claim}`"));
                }
            }
            (want, got) => problems.push(format!("{id}: expected {want:?}, got {got:?}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn an_untouched_token_passes_every_reference_check() {
    // GroupsChanged changes nothing the verifier looks at: the same as no fault.
    let issued = issue(FaultId::GroupsChanged).await;
    assert_eq!(failing(&issued), Ok(BTreeSet::new()));
    // And the checks can fail: the same token against another nonce does.
    let token: CoreIdToken =
        serde_json::from_value(Value::String(issued.id_token.clone())).unwrap();
    let v = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(WEB.into()),
        ClientSecret::new(WEB_SECRET.into()),
        IssuerUrl::new(issued.issuer.clone()).unwrap(),
        issued.jwks.clone(),
    )
    .set_time_fn(|| chrono_at(NOW));
    assert!(token.claims(&v, &Nonce::new("another".into())).is_err());
}
