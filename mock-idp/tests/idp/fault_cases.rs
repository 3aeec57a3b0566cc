//! One test per fault: the same login with and without the fault, reduced to what does
//! not change by chance (codes, token ids), must differ exactly where the fault says.

use std::collections::BTreeSet;

use mock_idp::faults::{CATALOG, Fault, FaultId};
use mock_idp::{Clock, MockIdp, jwt};
use serde_json::{Map, Value, json};

use crate::common::*;

pub const NOW: i64 = 1_800_000_000;

/// What `iss-without-scheme` makes of Okta's `default` issuer (the origin is normalised).
const NO_SCHEME_ISSUER: &str = "<no scheme>/oauth2/default";

const STATE: &str = "state-0123456789abcdef";
const NONCE: &str = "nonce-0123456789abcdef";

/// Which login to observe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Flow {
    /// Code + PKCE on the web client, then userinfo and the JWKS.
    Code,
    /// `code id_token` in the fragment.
    Hybrid,
    /// Discovery of `default`.
    Discovery,
    /// Code flow, then logout with a post-logout URI and state, then authorize again.
    Logout,
    /// The SPA's code flow with an `Origin` on the token request.
    Cors,
    /// The code flow with `response_mode=form_post`: the self-submitting page.
    FormPost,
    /// The code flow with `offline_access`, then a refresh.
    Refresh,
    /// Discovery of `default`, then its `jwks_uri` and the usual keys path.
    DiscoveryKeys,
    /// The authorization request alone: the sign-in page, or the IdP's error page.
    AuthorizePage,
}

/// What a fault must change: the observation differs under these paths (and only
/// there), with these values after.
pub struct Case {
    pub fault: Fault,
    pub flow: Flow,
    pub changed: Vec<&'static str>,
    pub after: Vec<(&'static str, Value)>,
}

fn case(
    id: FaultId,
    flow: Flow,
    changed: &[&'static str],
    after: Vec<(&'static str, Value)>,
) -> Case {
    Case {
        fault: Fault::new(id),
        flow,
        changed: changed.to_vec(),
        after,
    }
}

/// The expectations, one per fault (a test checks every catalog fault has one).
pub fn cases() -> Vec<Case> {
    use FaultId::*;
    use Flow::*;
    const IDT: &str = "/token/body/id_token";
    vec![
        case(
            StateMissing,
            Code,
            &["/callback/state"],
            vec![("/callback/state", Value::Null)],
        ),
        case(StateMismatch, Code, &["/callback/state"], vec![]),
        case(
            CodeMissing,
            Code,
            &["/callback/code", "/token", "/userinfo"],
            vec![("/callback/code", Value::Null)],
        ),
        case(
            IssParamMismatch,
            Code,
            &["/callback/iss"],
            vec![("/callback/iss", json!("ORIGIN"))],
        ),
        case(
            IdpError,
            Code,
            &["/callback", "/token", "/userinfo"],
            vec![
                ("/callback/error", json!("server_error")),
                (
                    "/callback/error_description",
                    json!(
                        "The authorization server encountered an unexpected condition that prevented it from fulfilling the request."
                    ),
                ),
                ("/callback/state", json!(STATE)),
            ],
        ),
        case(
            UserNotAssigned,
            Code,
            &["/callback", "/token", "/userinfo"],
            vec![
                ("/callback/error", json!("access_denied")),
                (
                    "/callback/error_description",
                    json!("User is not assigned to the client application."),
                ),
            ],
        ),
        case(
            ClientSecretRejected,
            Code,
            &["/token", "/userinfo"],
            vec![
                ("/token/status", json!(401)),
                (
                    "/token/body/error_description",
                    json!("The client secret supplied for a confidential client is invalid."),
                ),
            ],
        ),
        case(
            CodeRejected,
            Code,
            &["/token", "/userinfo"],
            vec![
                ("/token/status", json!(400)),
                ("/token/body/error", json!("invalid_grant")),
            ],
        ),
        case(
            TokenEndpoint5xx,
            Code,
            &["/token", "/userinfo"],
            vec![
                ("/token/status", json!(500)),
                ("/token/body/errorCode", json!("E0000009")),
            ],
        ),
        case(TokenEndpointSlow, Code, &[], vec![]),
        case(
            TokenResponseMalformed,
            Code,
            &["/token/body", "/userinfo"],
            vec![("/token/body", json!("unparsable"))],
        ),
        case(IdTokenMissing, Code, &[IDT], vec![(IDT, Value::Null)]),
        // Without the access token, the at_hash beside it can no longer be checked.
        case(
            AccessTokenMissing,
            Code,
            &[
                "/token/body/access_token",
                "/token/body/id_token/payload/at_hash",
                "/userinfo",
            ],
            vec![
                ("/token/body/access_token", Value::Null),
                (
                    "/token/body/id_token/payload/at_hash",
                    json!("unverifiable"),
                ),
            ],
        ),
        case(
            BadSignature,
            Code,
            &["/token/body/id_token/signature"],
            vec![("/token/body/id_token/signature", json!("invalid"))],
        ),
        case(
            AlgNone,
            Code,
            &[
                "/token/body/id_token/header",
                "/token/body/id_token/signature",
                "/token/body/id_token/payload/at_hash",
            ],
            vec![
                ("/token/body/id_token/header", json!({"alg": "none"})),
                ("/token/body/id_token/signature", json!("invalid")),
                ("/token/body/id_token/payload/at_hash", Value::Null),
            ],
        ),
        case(
            AlgNoneWithAtHash,
            Code,
            &[
                "/token/body/id_token/header",
                "/token/body/id_token/signature",
            ],
            vec![
                ("/token/body/id_token/header", json!({"alg": "none"})),
                ("/token/body/id_token/signature", json!("invalid")),
                ("/token/body/id_token/payload/at_hash", json!("matches")),
            ],
        ),
        case(
            Hs256WithClientSecret,
            Code,
            &[
                "/token/body/id_token/header",
                "/token/body/id_token/signature",
            ],
            vec![
                ("/token/body/id_token/header", json!({"alg": "HS256"})),
                (
                    "/token/body/id_token/signature",
                    json!("hs256-with-client-secret"),
                ),
            ],
        ),
        case(
            UnknownKid,
            Code,
            &[
                "/token/body/id_token/header/kid",
                "/token/body/id_token/signature",
            ],
            vec![("/token/body/id_token/signature", json!("unknown-kid"))],
        ),
        case(
            KidAbsentSingleKey,
            Code,
            &["/token/body/id_token/header/kid", "/jwks/1"],
            vec![
                ("/token/body/id_token/header/kid", Value::Null),
                ("/token/body/id_token/signature", json!("valid")),
            ],
        ),
        case(
            KidAbsentSeveralKeys,
            Code,
            &["/token/body/id_token/header/kid"],
            vec![
                ("/token/body/id_token/header/kid", Value::Null),
                ("/token/body/id_token/signature", json!("valid")),
            ],
        ),
        case(
            IssMismatch,
            Code,
            &["/token/body/id_token/payload/iss"],
            vec![("/token/body/id_token/payload/iss", json!("ORIGIN"))],
        ),
        case(
            AudMismatch,
            Code,
            &["/token/body/id_token/payload/aud"],
            vec![],
        ),
        case(
            AudMissing,
            Code,
            &["/token/body/id_token/payload/aud"],
            vec![("/token/body/id_token/payload/aud", Value::Null)],
        ),
        case(
            SubMissing,
            Code,
            &["/token/body/id_token/payload/sub"],
            vec![("/token/body/id_token/payload/sub", Value::Null)],
        ),
        case(
            IatMissing,
            Code,
            &["/token/body/id_token/payload/iat"],
            vec![("/token/body/id_token/payload/iat", Value::Null)],
        ),
        case(
            ExpMissing,
            Code,
            &["/token/body/id_token/payload/exp"],
            vec![("/token/body/id_token/payload/exp", Value::Null)],
        ),
        case(
            Expired,
            Code,
            &[
                "/token/body/id_token/payload/iat",
                "/token/body/id_token/payload/exp",
            ],
            vec![
                ("/token/body/id_token/payload/iat", json!(NOW - 7200)),
                ("/token/body/id_token/payload/exp", json!(NOW - 3600)),
            ],
        ),
        case(
            IssuedInFuture,
            Code,
            &[
                "/token/body/id_token/payload/iat",
                "/token/body/id_token/payload/exp",
            ],
            vec![
                ("/token/body/id_token/payload/iat", json!(NOW + 3600)),
                ("/token/body/id_token/payload/exp", json!(NOW + 7200)),
            ],
        ),
        case(
            NonceMissing,
            Code,
            &["/token/body/id_token/payload/nonce"],
            vec![("/token/body/id_token/payload/nonce", Value::Null)],
        ),
        case(
            NonceMismatch,
            Code,
            &["/token/body/id_token/payload/nonce"],
            vec![],
        ),
        case(
            AtHashBad,
            Code,
            &["/token/body/id_token/payload/at_hash"],
            vec![("/token/body/id_token/payload/at_hash", json!("differs"))],
        ),
        case(
            AtHashMissing,
            Code,
            &["/token/body/id_token/payload/at_hash"],
            vec![("/token/body/id_token/payload/at_hash", Value::Null)],
        ),
        case(
            CHashBad,
            Hybrid,
            &["/callback/id_token/payload/c_hash"],
            vec![("/callback/id_token/payload/c_hash", json!("differs"))],
        ),
        case(
            CHashMissing,
            Hybrid,
            &["/callback/id_token/payload/c_hash"],
            vec![("/callback/id_token/payload/c_hash", Value::Null)],
        ),
        case(
            EmailMissing,
            Code,
            &["/token/body/id_token/payload/email"],
            vec![("/token/body/id_token/payload/email", Value::Null)],
        ),
        case(
            AppClaimsMissing,
            Code,
            &[
                "/token/body/id_token/payload/mail",
                "/token/body/id_token/payload/harness:plan",
                "/userinfo/body/mail",
                "/userinfo/body/harness:plan",
            ],
            vec![
                ("/token/body/id_token/payload/mail", Value::Null),
                ("/userinfo/body/harness:plan", Value::Null),
            ],
        ),
        case(
            EmailUnverified,
            Code,
            &[
                "/token/body/id_token/payload/email_verified",
                "/userinfo/body/email_verified",
            ],
            vec![
                ("/token/body/id_token/payload/email_verified", json!(false)),
                ("/userinfo/body/email_verified", json!(false)),
            ],
        ),
        case(
            GroupsChanged,
            Code,
            &[
                "/token/body/id_token/payload/groups",
                "/userinfo/body/groups",
            ],
            vec![
                (
                    "/token/body/id_token/payload/groups",
                    json!(["Everyone", "harness-unexpected"]),
                ),
                (
                    "/userinfo/body/groups",
                    json!(["Everyone", "harness-unexpected"]),
                ),
            ],
        ),
        case(
            DiscoveryUnavailable,
            Discovery,
            &["/discovery"],
            vec![("/discovery/status", json!(503))],
        ),
        case(
            DiscoveryMalformed,
            Discovery,
            &["/discovery/body"],
            vec![("/discovery/body", json!("unparsable"))],
        ),
        case(
            DiscoveryIssuerMismatch,
            Discovery,
            &["/discovery/body/issuer"],
            vec![("/discovery/body/issuer", json!("ORIGIN"))],
        ),
        case(
            JwksUnavailable,
            Code,
            &["/jwks", "/token/body/id_token/signature"],
            vec![("/jwks", json!(503))],
        ),
        case(
            KeyRotationKeepOld,
            Code,
            &["/jwks", "/token/body/id_token/header/kid"],
            vec![("/token/body/id_token/signature", json!("valid"))],
        ),
        case(
            KeyRotationDropOld,
            Code,
            &["/jwks", "/token/body/id_token/header/kid"],
            vec![("/token/body/id_token/signature", json!("valid"))],
        ),
        case(
            UserinfoSubMismatch,
            Code,
            &[
                "/userinfo/body/sub",
                "/userinfo/body/name",
                "/userinfo/body/email",
                "/userinfo/body/preferred_username",
            ],
            vec![
                ("/userinfo/body/name", json!("Someone Else")),
                ("/userinfo/body/email", json!("someone.else@example.com")),
                (
                    "/userinfo/body/preferred_username",
                    json!("someone.else@example.com"),
                ),
            ],
        ),
        case(
            UserinfoUnauthorized,
            Code,
            &["/userinfo"],
            vec![
                ("/userinfo/status", json!(401)),
                (
                    "/userinfo/www_authenticate",
                    json!(
                        "Bearer error=\"invalid_token\", error_description=\"The access token is invalid.\""
                    ),
                ),
            ],
        ),
        case(
            UserinfoEmailMissing,
            Code,
            &["/userinfo/body/email", "/userinfo/body/email_verified"],
            vec![("/userinfo/body/email", Value::Null)],
        ),
        case(
            LogoutStateMissing,
            Logout,
            &["/logout/location"],
            vec![("/logout/location", json!("http://127.0.0.1:8080/"))],
        ),
        case(
            RedirectUriUnregistered,
            AuthorizePage,
            &["/authorize/says"],
            vec![(
                "/authorize/says",
                json!("400: must be a Login redirect URI in the client app settings"),
            )],
        ),
        case(LogoutStateOther, Logout, &["/logout/location"], vec![]),
        case(
            PostLogoutUriUnregistered,
            Logout,
            &[
                "/logout/location",
                "/logout/cookie_cleared",
                "/next_authorize",
            ],
            vec![
                ("/logout/location", Value::Null),
                ("/logout/cookie_cleared", json!(false)),
                ("/next_authorize", json!(302)),
            ],
        ),
        case(
            LogoutSessionKept,
            Logout,
            &["/logout/cookie_cleared", "/next_authorize"],
            vec![
                ("/logout/cookie_cleared", json!(false)),
                ("/next_authorize", json!(302)),
            ],
        ),
        case(
            FormPostOpaqueOrigin,
            FormPost,
            &["/form/csp"],
            vec![("/form/csp", json!("sandbox allow-forms allow-scripts"))],
        ),
        case(
            ScopeMissing,
            Code,
            &["/token/body/scope"],
            vec![("/token/body/scope", Value::Null)],
        ),
        case(
            ExpiresInMissing,
            Code,
            &["/token/body/expires_in"],
            vec![("/token/body/expires_in", Value::Null)],
        ),
        case(
            TokenTypeLowercase,
            Code,
            &["/token/body/token_type"],
            vec![("/token/body/token_type", json!("bearer"))],
        ),
        case(
            ExpiresInString,
            Code,
            &["/token/body/expires_in"],
            vec![("/token/body/expires_in", json!("3600"))],
        ),
        case(
            Hs256BadSignature,
            Code,
            &[
                "/token/body/id_token/header",
                "/token/body/id_token/signature",
            ],
            vec![
                ("/token/body/id_token/header", json!({"alg": "HS256"})),
                ("/token/body/id_token/signature", json!("invalid")),
            ],
        ),
        case(
            Es256,
            Code,
            &["/token/body/id_token/header", "/jwks/2"],
            vec![
                ("/token/body/id_token/header/alg", json!("ES256")),
                ("/token/body/id_token/signature", json!("valid")),
                ("/jwks/2", json!(mock_idp::keys::fixture_ec_key().kid())),
            ],
        ),
        case(
            Es256BadSignature,
            Code,
            &[
                "/token/body/id_token/header",
                "/token/body/id_token/signature",
                "/jwks/2",
            ],
            vec![
                ("/token/body/id_token/header/alg", json!("ES256")),
                ("/token/body/id_token/signature", json!("invalid")),
            ],
        ),
        case(
            IssMissing,
            Code,
            &["/token/body/id_token/payload/iss"],
            vec![("/token/body/id_token/payload/iss", Value::Null)],
        ),
        case(
            IssWithoutScheme,
            Code,
            &["/token/body/id_token/payload/iss"],
            vec![("/token/body/id_token/payload/iss", json!(NO_SCHEME_ISSUER))],
        ),
        case(
            AudExtra,
            Code,
            &["/token/body/id_token/payload/aud"],
            vec![("/token/body/id_token/payload/aud/0", json!(WEB))],
        ),
        case(
            AzpMismatch,
            Code,
            &["/token/body/id_token/payload/azp"],
            vec![("/token/body/id_token/payload/aud", json!(WEB))],
        ),
        case(
            AudArray,
            Code,
            &["/token/body/id_token/payload/aud"],
            vec![("/token/body/id_token/payload/aud", json!([WEB]))],
        ),
        case(
            NbfInFuture,
            Code,
            &["/token/body/id_token/payload/nbf"],
            vec![("/token/body/id_token/payload/nbf", json!(NOW + 3600))],
        ),
        case(
            IatWeekOld,
            Code,
            &["/token/body/id_token/payload/iat"],
            vec![("/token/body/id_token/payload/iat", json!(NOW - 7 * 86_400))],
        ),
        case(
            JwksUnparseableKey,
            Code,
            &["/jwks/2"],
            vec![
                ("/jwks/2", json!("unparseable-key-0")),
                ("/token/body/id_token/signature", json!("valid")),
            ],
        ),
        case(
            JwksUriMoved,
            DiscoveryKeys,
            &["/discovery/jwks_uri", "/usual_keys"],
            vec![("/usual_keys", json!(404))],
        ),
        case(
            UserinfoBearerHeaderOnly,
            Code,
            &["/userinfo/in_body"],
            vec![("/userinfo/in_body", json!(401))],
        ),
        case(
            UserinfoBearerBodyOnly,
            Code,
            &[
                "/userinfo/status",
                "/userinfo/www_authenticate",
                "/userinfo/body",
            ],
            vec![
                ("/userinfo/status", json!(401)),
                ("/userinfo/in_body", json!(200)),
            ],
        ),
        case(
            RefreshIssMismatch,
            Refresh,
            &["/refresh/body/id_token/payload/iss"],
            vec![("/refresh/body/id_token/payload/iss", json!("ORIGIN"))],
        ),
        case(
            RefreshSubMismatch,
            Refresh,
            &["/refresh/body/id_token/payload/sub"],
            vec![],
        ),
        case(
            CorsMissing,
            Cors,
            &["/token/cors"],
            vec![("/token/cors", Value::Null)],
        ),
    ]
}

/// Reduces an ID token to what does not change by chance.
async fn id_token_view(
    idp: &MockIdp,
    token: &str,
    access_token: Option<&str>,
    code: Option<&str>,
    secret: &str,
) -> Value {
    let Some((header, mut payload)) = jwt::decode_unverified(token) else {
        return json!("undecodable");
    };
    // Ids new at every login (the token's, the session's: Okta's `jti`; Entra's `uti`,
    // `aio`, `rh`; Keycloak's and Auth0's session; Cognito's `origin_jti`).
    for claim in [
        "jti",
        "uti",
        "aio",
        "rh",
        "sid",
        "session_state",
        "origin_jti",
    ] {
        if payload.contains_key(claim) {
            payload.insert(claim.into(), json!(format!("<{claim}>")));
        }
    }
    for (claim, value) in [("at_hash", access_token), ("c_hash", code)] {
        if let Some(h) = payload.get(claim).and_then(Value::as_str) {
            let seen = match value {
                None => "unverifiable",
                Some(v) if jwt::half_hash(v) == h => "matches",
                Some(_) => "differs",
            };
            payload.insert(claim.into(), json!(seen));
        }
    }
    let signature = signature_check(idp, &header, token, secret).await;
    json!({"header": header, "payload": payload, "signature": signature})
}

async fn signature_check(
    idp: &MockIdp,
    header: &Map<String, Value>,
    token: &str,
    secret: &str,
) -> &'static str {
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg == "HS256" {
        let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
        return if decode(token, &key, jsonwebtoken::Algorithm::HS256) {
            "hs256-with-client-secret"
        } else {
            "invalid"
        };
    }
    if alg != "RS256" && alg != "ES256" {
        return "invalid";
    }
    let resp = browser()
        .get(endpoint(idp, "default", "keys"))
        .send()
        .await
        .unwrap();
    if resp.status() != 200 {
        return "no-keys";
    }
    let jwks: Value = resp.json().await.unwrap();
    let keys: Vec<&Value> = jwks["keys"].as_array().unwrap().iter().collect();
    let candidates: Vec<&&Value> = match header.get("kid") {
        Some(kid) => keys.iter().filter(|k| &k["kid"] == kid).collect(),
        None => keys.iter().collect(),
    };
    if candidates.is_empty() {
        return "unknown-kid";
    }
    let ok = candidates.iter().any(|k| match k["kty"].as_str() {
        Some("EC") => {
            let key = jsonwebtoken::DecodingKey::from_ec_components(
                k["x"].as_str().unwrap(),
                k["y"].as_str().unwrap(),
            )
            .unwrap();
            alg == "ES256" && decode(token, &key, jsonwebtoken::Algorithm::ES256)
        }
        _ => {
            let key = jsonwebtoken::DecodingKey::from_rsa_components(
                k["n"].as_str().unwrap(),
                k["e"].as_str().unwrap(),
            )
            .unwrap();
            alg == "RS256" && decode(token, &key, jsonwebtoken::Algorithm::RS256)
        }
    });
    if ok { "valid" } else { "invalid" }
}

fn decode(token: &str, key: &jsonwebtoken::DecodingKey, alg: jsonwebtoken::Algorithm) -> bool {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, key, &v).is_ok()
}

fn callback_view(loc: &url::Url) -> Map<String, Value> {
    let pairs: Vec<(String, String)> = match loc.fragment() {
        Some(f) => url::form_urlencoded::parse(f.as_bytes())
            .into_owned()
            .collect(),
        None => loc.query_pairs().into_owned().collect(),
    };
    pairs.into_iter().map(|(k, v)| (k, json!(v))).collect()
}

/// Runs the flow for `user` (login, password) and returns the observation. `ORIGIN` in
/// values stands for the IdP's origin.
pub async fn observe(idp: &MockIdp, flow: Flow, user: &str, password: &str) -> Value {
    let c = browser();
    let origin = idp.uri().to_string();
    let norm = |mut v: Value| {
        normalize_origin(&mut v, &origin);
        v
    };
    match flow {
        Flow::AuthorizePage => {
            let (_, challenge) = pkce();
            let resp = c
                .get(authorize_url(idp, "default", &code_params(&challenge)))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            const SAYS: &str = "must be a Login redirect URI in the client app settings";
            let says = if text.contains(SAYS) {
                SAYS
            } else if text.contains("stateToken") {
                "sign-in page"
            } else {
                "something else"
            };
            // Another IdP's error page may answer 200: the status goes with the words.
            json!({"authorize": {"says": format!("{status}: {says}")}})
        }
        Flow::Discovery => {
            let resp = c
                .get(
                    idp.endpoint_url("default", mock_idp::Endpoint::Discovery)
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            let body = serde_json::from_str::<Value>(&text).map(|mut b| {
                if let Some(m) = b.as_object_mut() {
                    m.remove("errorId");
                }
                b
            });
            norm(
                json!({"discovery": {"status": status, "body": body.unwrap_or(json!("unparsable"))}}),
            )
        }
        Flow::Code | Flow::Logout => {
            let (verifier, challenge) = pkce();
            let mut params = code_params(&challenge);
            params.retain(|(k, _)| *k != "state" && *k != "nonce");
            params.push(("state", STATE));
            params.push(("nonce", NONCE));
            let resp = sign_in(&c, &authorize_url(idp, "default", &params), user, password).await;
            let loc = location(&resp);
            let mut obs = Map::new();
            let mut callback = callback_view(&loc);
            let code = callback
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_string);
            if code.is_some() {
                callback.insert("code".into(), json!("<code>"));
            }
            obs.insert("callback".into(), Value::Object(callback));
            if let Some(code) = code {
                let (token, body) = token_exchange(idp, &c, &code, &verifier).await;
                let at = body
                    .get("access_token")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                obs.insert("token".into(), token);
                if let Some(at) = at {
                    let r = c
                        .get(endpoint(idp, "default", "userinfo"))
                        .bearer_auth(&at)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let www = r
                        .headers()
                        .get("www-authenticate")
                        .map(|v| v.to_str().unwrap().to_string());
                    let text = r.text().await.unwrap();
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    // RFC 6750 2.2: the token in a form-encoded body.
                    let in_body = c
                        .post(endpoint(idp, "default", "userinfo"))
                        .form(&[("access_token", at.as_str())])
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16();
                    obs.insert(
                        "userinfo".into(),
                        json!({"status": status, "www_authenticate": www, "body": body, "in_body": in_body}),
                    );
                }
                if flow == Flow::Logout {
                    let id_token = body
                        .get("id_token")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let mut url = url::Url::parse(&endpoint(idp, "default", "logout")).unwrap();
                    url.query_pairs_mut()
                        .append_pair("id_token_hint", id_token)
                        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:8080/")
                        .append_pair("state", "bye");
                    let r = c.get(url).send().await.unwrap();
                    let cleared = r
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .any(|v| v.to_str().unwrap().contains("Max-Age=0"));
                    obs.insert(
                        "logout".into(),
                        json!({
                            "location": r.headers().get("location").map(|v| v.to_str().unwrap().to_string()),
                            "cookie_cleared": cleared
                        }),
                    );
                    let again = c
                        .get(authorize_url(idp, "default", &params))
                        .send()
                        .await
                        .unwrap();
                    obs.insert("next_authorize".into(), json!(again.status().as_u16()));
                }
            }
            let keys = c
                .get(endpoint(idp, "default", "keys"))
                .send()
                .await
                .unwrap();
            let jwks = if keys.status() == 200 {
                let v: Value = keys.json().await.unwrap();
                json!(
                    v["keys"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|k| k["kid"].clone())
                        .collect::<Vec<_>>()
                )
            } else {
                json!(keys.status().as_u16())
            };
            obs.insert("jwks".into(), jwks);
            norm(Value::Object(obs))
        }
        Flow::Hybrid => {
            let params = [
                ("client_id", WEB),
                ("redirect_uri", WEB_CB),
                ("response_type", "code id_token"),
                ("scope", "openid email"),
                ("state", STATE),
                ("nonce", NONCE),
            ];
            let loc = location(
                &sign_in(&c, &authorize_url(idp, "default", &params), user, password).await,
            );
            let mut callback = callback_view(&loc);
            let code = callback
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(t) = callback
                .get("id_token")
                .and_then(Value::as_str)
                .map(str::to_string)
            {
                let view = id_token_view(idp, &t, None, code.as_deref(), WEB_SECRET).await;
                callback.insert("id_token".into(), view);
            }
            if code.is_some() {
                callback.insert("code".into(), json!("<code>"));
            }
            norm(json!({"callback": callback}))
        }
        Flow::FormPost => {
            let (_, challenge) = pkce();
            let mut params = code_params(&challenge);
            params.retain(|(k, _)| *k != "state" && *k != "nonce");
            params.push(("state", STATE));
            params.push(("nonce", NONCE));
            params.push(("response_mode", "form_post"));
            let resp = sign_in(&c, &authorize_url(idp, "default", &params), user, password).await;
            let csp = resp
                .headers()
                .get("content-security-policy")
                .map(|v| v.to_str().unwrap().to_string());
            let html = resp.text().await.unwrap();
            let fields: Map<String, Value> = ["state", "code"]
                .iter()
                .map(|k| {
                    let v = form_value(&html, k)
                        .map(|v| if *k == "code" { "<code>".into() } else { v });
                    (k.to_string(), json!(v))
                })
                .collect();
            json!({"form": {"csp": csp, "fields": fields}})
        }
        Flow::Refresh => {
            let (verifier, challenge) = pkce();
            let params = code_params(&challenge);
            let loc = location(
                &sign_in(&c, &authorize_url(idp, "default", &params), user, password).await,
            );
            let code = query(&loc, "code").unwrap();
            let (_, raw) = token_exchange(idp, &c, &code, &verifier).await;
            let rt = raw["refresh_token"].as_str().unwrap().to_string();
            let r = web_token(
                idp,
                &c,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ],
            )
            .await;
            let status = r.status().as_u16();
            let raw: Map<String, Value> = r.json().await.unwrap();
            let at = raw.get("access_token").and_then(Value::as_str);
            let view = match raw.get("id_token").and_then(Value::as_str) {
                Some(t) => id_token_view(idp, t, at, None, WEB_SECRET).await,
                None => Value::Null,
            };
            norm(json!({"refresh": {"status": status, "body": {"id_token": view}}}))
        }
        Flow::DiscoveryKeys => {
            let doc = get_json(
                &c,
                idp.endpoint_url("default", mock_idp::Endpoint::Discovery)
                    .unwrap(),
            )
            .await;
            let jwks_uri = doc["jwks_uri"].as_str().unwrap().to_string();
            let keys = get_json(&c, &jwks_uri).await;
            let kids: Vec<Value> = keys["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].clone())
                .collect();
            let usual = status(c.get(endpoint(idp, "default", "keys"))).await;
            let moved = jwks_uri != endpoint(idp, "default", "keys");
            json!({"discovery": {"jwks_uri": if moved { "moved" } else { "usual" }}, "keys": kids, "usual_keys": usual})
        }
        Flow::Cors => {
            let (verifier, challenge) = pkce();
            let params = [
                ("client_id", SPA),
                ("redirect_uri", SPA_CB),
                ("response_type", "code"),
                ("scope", "openid email"),
                ("state", STATE),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ];
            let loc = location(
                &sign_in(&c, &authorize_url(idp, "default", &params), user, password).await,
            );
            let code = query(&loc, "code").unwrap();
            let r = c
                .post(endpoint(idp, "default", "token"))
                .header("origin", "http://127.0.0.1:8081")
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", SPA_CB),
                    ("code_verifier", verifier.as_str()),
                    ("client_id", SPA),
                ])
                .send()
                .await
                .unwrap();
            let cors = r
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_string());
            json!({"token": {"status": r.status().as_u16(), "cors": cors}})
        }
    }
}

async fn token_exchange(
    idp: &MockIdp,
    c: &reqwest::Client,
    code: &str,
    verifier: &str,
) -> (Value, Map<String, Value>) {
    let r = redeem(idp, c, "default", code, verifier).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let Ok(Value::Object(raw)) = serde_json::from_str::<Value>(&text) else {
        return (json!({"status": status, "body": "unparsable"}), Map::new());
    };
    let mut body = raw.clone();
    body.remove("errorId");
    // Keycloak names the session in its token response too.
    if body.contains_key("session_state") {
        body.insert("session_state".into(), json!("<session_state>"));
    }
    if body.contains_key("access_token") {
        body.insert("access_token".into(), json!("<access token>"));
    }
    if body.contains_key("refresh_token") {
        body.insert("refresh_token".into(), json!("<refresh token>"));
    }
    if let Some(t) = raw.get("id_token").and_then(Value::as_str) {
        let at = raw.get("access_token").and_then(Value::as_str);
        body.insert(
            "id_token".into(),
            id_token_view(idp, t, at, None, WEB_SECRET).await,
        );
    }
    (json!({"status": status, "body": body}), raw)
}

fn normalize_origin(v: &mut Value, origin: &str) {
    match v {
        Value::String(s) if s.starts_with(origin) => {
            *s = s.replacen(origin, "ORIGIN", 1);
            if s == "ORIGIN/oauth2/default" {
                *s = "ISSUER".into();
            }
        }
        // The origin without its scheme (`iss-without-scheme`).
        Value::String(s)
            if origin
                .split_once("://")
                .is_some_and(|(_, bare)| s.starts_with(bare)) =>
        {
            let bare = origin.split_once("://").map_or("", |(_, b)| b);
            *s = s.replacen(bare, "<no scheme>", 1);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalize_origin(x, origin)),
        Value::Object(m) => m.values_mut().for_each(|x| normalize_origin(x, origin)),
        _ => {}
    }
}

/// The JSON pointers where `a` and `b` differ (leaves, or whole values of other shapes).
pub fn diff(a: &Value, b: &Value, path: String, out: &mut BTreeSet<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    format!("{path}/{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(p, q, format!("{path}/{i}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                diff(
                    x.get(i).unwrap_or(&Value::Null),
                    y.get(i).unwrap_or(&Value::Null),
                    format!("{path}/{i}"),
                    out,
                );
            }
        }
        _ if a != b => {
            out.insert(path);
        }
        _ => {}
    }
}

/// Checks that `faulted` differs from `base` exactly as the case says.
pub fn check(case: &Case, base: &Value, faulted: &Value) -> Result<(), String> {
    let mut changed = BTreeSet::new();
    diff(base, faulted, String::new(), &mut changed);
    let fault = &case.fault;
    for path in &changed {
        if !case
            .changed
            .iter()
            .any(|p| path == p || path.starts_with(&format!("{p}/")))
        {
            return Err(format!(
                "{fault}: unexpected difference at {path}: {} -> {}",
                base.pointer(path).unwrap_or(&Value::Null),
                faulted.pointer(path).unwrap_or(&Value::Null)
            ));
        }
    }
    for p in &case.changed {
        if !changed
            .iter()
            .any(|c| c == p || c.starts_with(&format!("{p}/")))
        {
            return Err(format!(
                "{fault}: expected a difference under {p}, found none (differences: {changed:?})"
            ));
        }
    }
    for (p, want) in &case.after {
        let got = faulted.pointer(p).unwrap_or(&Value::Null);
        if got != want {
            return Err(format!("{fault}: at {p} expected {want}, found {got}"));
        }
    }
    Ok(())
}

/// The web app with a claim of its own and one under another name, as an admin adds them
/// (what `app-claims-missing` leaves out).
pub fn add_app_claims(idp: &MockIdp) {
    let mut c = idp.tenant().client(WEB).unwrap().clone();
    c.claims.insert("harness:plan".into(), json!("enterprise"));
    c.claim_names.insert("mail".into(), "email".into());
    idp.upsert_client(c).unwrap();
}

/// Runs one case: baseline, arm, faulted, compare, and the journal names the fault.
pub async fn run_case(id: FaultId) {
    let case = cases()
        .into_iter()
        .find(|c| c.fault.id == id)
        .expect("a case for every fault");
    let idp = MockIdp::builder()
        .clock(Clock::frozen(NOW))
        .start()
        .await
        .unwrap();
    add_app_claims(&idp);
    let base = observe(&idp, case.flow, ALICE, ALICE_PW).await;
    let before = idp.journal().last().map_or(0, |e| e.seq);
    let scoped = id.doc().scoped;
    let mut fault = case.fault.clone();
    if scoped {
        fault = fault.for_user(ALICE);
    }
    if id == FaultId::TokenEndpointSlow {
        fault = fault.param("300");
    }
    let guard = idp.arm(fault.clone()).unwrap();
    let started = std::time::Instant::now();
    let faulted = observe(&idp, case.flow, ALICE, ALICE_PW).await;
    if id == FaultId::TokenEndpointSlow {
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(300),
            "the token endpoint waited"
        );
    }
    if let Err(e) = check(&case, &base, &faulted) {
        panic!("{e}\nbase:    {base}\nfaulted: {faulted}");
    }
    assert!(guard.fired() >= 1, "{id}: the guard counts firings");
    let fired: Vec<String> = idp
        .journal_since(before)
        .into_iter()
        .flat_map(|e| e.faults)
        .collect();
    assert!(
        fired
            .iter()
            .all(|f| f.split('=').next() == Some(id.as_str())),
        "{id}: only this fault fired: {fired:?}"
    );
    assert!(
        !fired.is_empty() || !scoped || id == FaultId::KeyRotationKeepOld,
        "{id}: the journal records it: {fired:?}"
    );
    // Disarmed, the IdP is right again.
    drop(guard);
    if !matches!(
        id,
        FaultId::KeyRotationKeepOld | FaultId::KeyRotationDropOld
    ) {
        let again = observe(&idp, case.flow, ALICE, ALICE_PW).await;
        assert!(
            check(
                &Case {
                    fault: case.fault.clone(),
                    flow: case.flow,
                    changed: vec![],
                    after: vec![]
                },
                &base,
                &again
            )
            .is_ok(),
            "{id}: disarmed, nothing differs"
        );
    }
}

/// Every fault under another IdP: it strikes (the journal names it) and changes the
/// observation where it says (the IdP's own words may change more: its error members,
/// its claims), and disarmed, nothing differs. The `after` values are Okta's words, so
/// they are not compared here.
async fn every_fault_strikes_under(p: mock_idp::Personality) {
    let mut problems = Vec::new();
    for case in cases() {
        let id = case.fault.id;
        // Logout faults at an IdP without an end-session endpoint have nothing to strike.
        if case.flow == Flow::Logout && !p.advertises_end_session() {
            continue;
        }
        // Browser-only and timing faults are covered under Okta.
        if id == FaultId::TokenEndpointSlow {
            continue;
        }
        let idp = MockIdp::builder()
            .clock(Clock::frozen(NOW))
            .personality(p)
            .start()
            .await
            .unwrap();
        add_app_claims(&idp);
        let base = observe(&idp, case.flow, ALICE, ALICE_PW).await;
        let before = idp.journal().last().map_or(0, |e| e.seq);
        let mut fault = case.fault.clone();
        if id.doc().scoped {
            fault = fault.for_user(ALICE);
        }
        let guard = idp.arm(fault).unwrap();
        let faulted = observe(&idp, case.flow, ALICE, ALICE_PW).await;
        let mut changed = BTreeSet::new();
        diff(&base, &faulted, String::new(), &mut changed);
        for want in &case.changed {
            // Another IdP's JWKS may list more keys first (Keycloak's encryption key):
            // a key added at another index is the same change.
            let want = if want.starts_with("/jwks/") {
                "/jwks"
            } else {
                want
            };
            if !changed
                .iter()
                .any(|c| c == want || c.starts_with(&format!("{want}/")))
            {
                problems.push(format!(
                    "{p} {id}: no difference under {want} ({changed:?})"
                ));
            }
        }
        let fired: Vec<String> = idp
            .journal_since(before)
            .into_iter()
            .flat_map(|e| e.faults)
            .collect();
        if fired.is_empty() && id.doc().scoped && id != FaultId::KeyRotationKeepOld {
            problems.push(format!("{p} {id}: the journal does not name it"));
        }
        drop(guard);
        if !matches!(
            id,
            FaultId::KeyRotationKeepOld | FaultId::KeyRotationDropOld
        ) {
            let again = observe(&idp, case.flow, ALICE, ALICE_PW).await;
            let mut after = BTreeSet::new();
            diff(&base, &again, String::new(), &mut after);
            if !after.is_empty() {
                problems.push(format!("{p} {id}: disarmed, still differs at {after:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

macro_rules! personality_fault_tests {
    ($($name:ident => $p:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                every_fault_strikes_under(mock_idp::Personality::$p).await;
            }
        )*
    };
}

personality_fault_tests! {
    every_fault_strikes_under_entra => Entra,
    every_fault_strikes_under_adfs => Adfs,
    every_fault_strikes_under_auth0 => Auth0,
    every_fault_strikes_under_keycloak => Keycloak,
    every_fault_strikes_under_google => Google,
    every_fault_strikes_under_cognito => Cognito,
    every_fault_strikes_under_pingfederate => Pingfederate,
    every_fault_strikes_under_pingone => Pingone,
    every_fault_strikes_under_generic => Generic,
}

#[test]
fn every_fault_has_a_case() {
    let mut covered: BTreeSet<FaultId> = cases().iter().map(|c| c.fault.id).collect();
    // The logout channels' faults are seen from a listening RP, in `logout`.
    covered.extend(crate::logout::LOGOUT_TOKEN_FAULTS);
    covered.extend([FaultId::FrontchannelIssOther, FaultId::FrontchannelSidOther]);
    // The provisioning faults are seen from a SCIM server, in `scim`.
    covered.extend(crate::scim::PROVISIONING_FAULTS);
    let all: BTreeSet<FaultId> = CATALOG.iter().map(|d| d.id).collect();
    assert_eq!(covered, all);
}

macro_rules! fault_tests {
    ($($name:ident => $id:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                run_case(FaultId::$id).await;
            }
        )*
    };
}

fault_tests! {
    fault_state_missing => StateMissing,
    fault_state_mismatch => StateMismatch,
    fault_code_missing => CodeMissing,
    fault_iss_param_mismatch => IssParamMismatch,
    fault_idp_error => IdpError,
    fault_user_not_assigned => UserNotAssigned,
    fault_client_secret_rejected => ClientSecretRejected,
    fault_code_rejected => CodeRejected,
    fault_token_endpoint_5xx => TokenEndpoint5xx,
    fault_token_endpoint_slow => TokenEndpointSlow,
    fault_token_response_malformed => TokenResponseMalformed,
    fault_id_token_missing => IdTokenMissing,
    fault_access_token_missing => AccessTokenMissing,
    fault_bad_signature => BadSignature,
    fault_alg_none => AlgNone,
    fault_alg_none_with_at_hash => AlgNoneWithAtHash,
    fault_hs256_with_client_secret => Hs256WithClientSecret,
    fault_unknown_kid => UnknownKid,
    fault_kid_absent_single_key => KidAbsentSingleKey,
    fault_kid_absent_several_keys => KidAbsentSeveralKeys,
    fault_iss_mismatch => IssMismatch,
    fault_aud_mismatch => AudMismatch,
    fault_aud_missing => AudMissing,
    fault_sub_missing => SubMissing,
    fault_iat_missing => IatMissing,
    fault_exp_missing => ExpMissing,
    fault_expired => Expired,
    fault_issued_in_future => IssuedInFuture,
    fault_nonce_missing => NonceMissing,
    fault_nonce_mismatch => NonceMismatch,
    fault_at_hash_bad => AtHashBad,
    fault_at_hash_missing => AtHashMissing,
    fault_c_hash_bad => CHashBad,
    fault_c_hash_missing => CHashMissing,
    fault_email_missing => EmailMissing,
    fault_email_unverified => EmailUnverified,
    fault_app_claims_missing => AppClaimsMissing,
    fault_groups_changed => GroupsChanged,
    fault_discovery_unavailable => DiscoveryUnavailable,
    fault_discovery_malformed => DiscoveryMalformed,
    fault_discovery_issuer_mismatch => DiscoveryIssuerMismatch,
    fault_jwks_unavailable => JwksUnavailable,
    fault_key_rotation_keep_old => KeyRotationKeepOld,
    fault_key_rotation_drop_old => KeyRotationDropOld,
    fault_userinfo_sub_mismatch => UserinfoSubMismatch,
    fault_userinfo_unauthorized => UserinfoUnauthorized,
    fault_userinfo_email_missing => UserinfoEmailMissing,
    fault_logout_state_missing => LogoutStateMissing,
    fault_logout_session_kept => LogoutSessionKept,
    fault_logout_state_other => LogoutStateOther,
    fault_post_logout_uri_unregistered => PostLogoutUriUnregistered,
    fault_redirect_uri_unregistered => RedirectUriUnregistered,
    fault_cors_missing => CorsMissing,
    fault_form_post_opaque_origin => FormPostOpaqueOrigin,
    fault_scope_missing => ScopeMissing,
    fault_expires_in_missing => ExpiresInMissing,
    fault_token_type_lowercase => TokenTypeLowercase,
    fault_expires_in_string => ExpiresInString,
    fault_hs256_bad_signature => Hs256BadSignature,
    fault_es256 => Es256,
    fault_es256_bad_signature => Es256BadSignature,
    fault_iss_missing => IssMissing,
    fault_iss_without_scheme => IssWithoutScheme,
    fault_aud_extra => AudExtra,
    fault_azp_mismatch => AzpMismatch,
    fault_aud_array => AudArray,
    fault_nbf_in_future => NbfInFuture,
    fault_iat_week_old => IatWeekOld,
    fault_jwks_uri_moved => JwksUriMoved,
    fault_jwks_unparseable_key => JwksUnparseableKey,
    fault_userinfo_bearer_header_only => UserinfoBearerHeaderOnly,
    fault_userinfo_bearer_body_only => UserinfoBearerBodyOnly,
    fault_refresh_iss_mismatch => RefreshIssMismatch,
    fault_refresh_sub_mismatch => RefreshSubMismatch,
}

/// The tenant's custom claims (a user's and an app's, and an app's claim under another
/// name) and `picture` reach the tokens and userinfo as the tenant format says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_claims_and_picture_reach_the_id_token_and_userinfo() {
    let idp = MockIdp::builder()
        .clock(Clock::frozen(NOW))
        .start()
        .await
        .unwrap();
    add_app_claims(&idp);
    let mut u = mock_idp::User::new("claims@example.com", "claims-password-0000");
    u.groups = vec!["Engineering".into()];
    u.profile.picture = Some("https://example.com/claims.png".into());
    u.claims.insert("employee_id".into(), json!(42));
    u.claims
        .insert("email".into(), json!("not-this@example.com"));
    idp.upsert_user(u).unwrap();
    let obs = observe(
        &idp,
        Flow::Code,
        "claims@example.com",
        "claims-password-0000",
    )
    .await;
    let id_token = &obs["token"]["body"]["id_token"]["payload"];
    assert_eq!(id_token["employee_id"], json!(42), "{obs}");
    assert_eq!(id_token["harness:plan"], json!("enterprise"));
    assert_eq!(id_token["mail"], json!("claims@example.com"));
    // A custom claim never replaces a standard one.
    assert_eq!(id_token["email"], json!("claims@example.com"));
    // Beside an access token Okta's ID token is thin: the picture is at userinfo.
    assert_eq!(id_token.get("picture"), None);
    let info = &obs["userinfo"]["body"];
    assert_eq!(
        info["picture"],
        json!("https://example.com/claims.png"),
        "{obs}"
    );
    assert_eq!(info["employee_id"], json!(42));
    assert_eq!(info["mail"], json!("claims@example.com"));
}
