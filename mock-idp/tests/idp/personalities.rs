//! Fidelity: under each personality the IdP looks on the wire like the captured samples
//! of that IdP (`reference/<idp>/`, copied from `../shared/reference/`): discovery with
//! every URL filled and served, JWKS members in the IdP's order and its `kid` form, ID
//! and access token claims in the IdP's order, the token response's members, and the
//! error rows that were captured (status, `error`, words), including each IdP's page for
//! an unregistered redirect URI.

use mock_idp::{MockIdp, Personality};
use serde_json::{Map, Value};

use crate::common::*;

async fn start(p: Personality) -> MockIdp {
    MockIdp::builder().personality(p).start().await.unwrap()
}

fn reference(path: &str) -> Value {
    let full = format!("{}/tests/idp/reference/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The names of `reference` that `ours` also has must come in the same order.
fn assert_same_order(what: &str, ours: &Map<String, Value>, reference: &Map<String, Value>) {
    let ours_order: Vec<&String> = ours.keys().filter(|k| reference.contains_key(*k)).collect();
    let ref_order: Vec<&String> = reference.keys().filter(|k| ours.contains_key(*k)).collect();
    assert_eq!(
        ours_order, ref_order,
        "{what}: members in another order than captured"
    );
}

/// Every member of `reference` not in `allowed_missing` is in `ours`.
fn assert_has_members(
    what: &str,
    ours: &Map<String, Value>,
    reference: &Map<String, Value>,
    allowed_missing: &[&str],
) {
    let missing: Vec<&String> = reference
        .keys()
        .filter(|k| !ours.contains_key(*k) && !allowed_missing.contains(&k.as_str()))
        .collect();
    assert!(missing.is_empty(), "{what}: missing {missing:?}");
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn discovery_is_the_idps_own_with_every_url_filled_and_served() {
    let b = browser();
    for p in Personality::ALL {
        let idp = start(p).await;
        let url = idp
            .endpoint_url("default", mock_idp::Endpoint::Discovery)
            .unwrap();
        let doc = get_json(&b, &url).await;
        assert_eq!(doc["issuer"], idp.issuer("default"), "{p}");
        let mut all = Vec::new();
        strings(&doc, &mut all);
        for s in &all {
            assert!(
                !s.contains('{') || s.contains("{connectionName}"),
                "{p}: placeholder left in discovery: {s}"
            );
        }
        // Every endpoint the document names for RPs is served (not 404).
        for member in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "end_session_endpoint",
            "ping_end_session_endpoint",
            "introspection_endpoint",
            "revocation_endpoint",
        ] {
            let Some(u) = doc[member].as_str() else {
                continue;
            };
            assert!(
                idp.origins()
                    .iter()
                    .any(|o| u.starts_with(&format!("{o}/"))),
                "{p}: {member} {u} is not on one of the IdP's hosts"
            );
            let method = if [
                "token_endpoint",
                "introspection_endpoint",
                "revocation_endpoint",
            ]
            .contains(&member)
            {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let status = b.request(method, u).send().await.unwrap().status();
            assert_ne!(status, 404, "{p}: {member} {u} is not served");
        }
        // The members the IdP publishes are the captured ones, in the captured order.
        let template = match p {
            Personality::Okta => continue,
            Personality::Entra => "entra-discovery",
            Personality::Adfs => "adfs-discovery",
            Personality::Auth0 => "auth0-discovery",
            Personality::Keycloak => "keycloak-discovery",
            Personality::Google => "google-discovery",
            Personality::Cognito => "cognito-discovery",
            Personality::Pingfederate => "pingfederate-discovery",
            Personality::Pingone => "pingone-discovery",
            Personality::Generic => "generic-discovery",
        };
        let text = std::fs::read_to_string(format!(
            "{}/src/personality/reference/{template}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let captured: Value = serde_json::from_str(&text).unwrap();
        let (ours, captured) = (doc.as_object().unwrap(), captured.as_object().unwrap());
        assert_has_members(&format!("{p} discovery"), ours, captured, &[]);
        assert_same_order(&format!("{p} discovery"), ours, captured);
        for (k, v) in captured {
            assert_eq!(
                std::mem::discriminant(&ours[k]),
                std::mem::discriminant(v),
                "{p} discovery: {k} changed type"
            );
        }
    }
}

#[tokio::test]
async fn google_and_cognito_spread_their_endpoints_over_their_hosts() {
    let b = browser();
    let google = start(Personality::Google).await;
    assert_eq!(google.origins().len(), 4);
    let doc = get_json(
        &b,
        format!("{}/.well-known/openid-configuration", google.uri()),
    )
    .await;
    assert!(
        doc["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(&google.origins()[1])
    );
    assert!(
        doc["userinfo_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(&google.origins()[2])
    );
    assert!(
        doc["jwks_uri"]
            .as_str()
            .unwrap()
            .starts_with(&google.origins()[3])
    );
    assert!(
        doc.get("end_session_endpoint").is_none(),
        "Google has no logout"
    );

    let cognito = start(Personality::Cognito).await;
    let issuer = cognito.issuer("default");
    assert!(issuer.starts_with(cognito.uri()));
    let pool = issuer.rsplit('/').next().unwrap();
    assert!(pool.starts_with("us-east-1_"), "{pool}");
    let doc = get_json(&b, format!("{issuer}/.well-known/openid-configuration")).await;
    assert!(
        doc["authorization_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/oauth2/authorize", cognito.origins()[1]))
    );
    assert!(
        doc["userinfo_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/oauth2/userInfo")
    );
    assert_eq!(doc["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    // Classic Cognito discovery is minimal: no end_session_endpoint, no PKCE methods.
    assert!(doc.get("end_session_endpoint").is_none());
    assert!(doc.get("code_challenge_methods_supported").is_none());
}

#[tokio::test]
async fn entra_common_says_tenantid_literally_and_tokens_carry_the_tenant() {
    let b = browser();
    let idp = start(Personality::Entra).await;
    let issuer = idp.issuer("default");
    let tid = issuer.split('/').nth(3).unwrap().to_string();
    assert_eq!(tid.len(), 36, "a tenant id is a GUID: {tid}");
    let common = get_json(
        &b,
        format!("{}/common/v2.0/.well-known/openid-configuration", idp.uri()),
    )
    .await;
    assert_eq!(
        common["issuer"],
        format!("{}/{{tenantid}}/v2.0", idp.uri()),
        "the common document's issuer is a template"
    );
    assert!(
        common["authorization_endpoint"]
            .as_str()
            .unwrap()
            .contains("/common/oauth2/v2.0/authorize")
    );
    let keys = get_json(&b, common["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(keys["keys"][0]["issuer"], common["issuer"]);
    // A login through common: the tokens name the real tenant.
    let (verifier, challenge) = pkce();
    let mut url = url::Url::parse(common["authorization_endpoint"].as_str().unwrap()).unwrap();
    url.query_pairs_mut().extend_pairs(code_params(&challenge));
    let resp = sign_in(&b, url.as_str(), ALICE, ALICE_PW).await;
    let code = query(&location(&resp), "code").unwrap();
    let body: Value = b
        .post(common["token_endpoint"].as_str().unwrap())
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], issuer);
    assert_eq!(id["tid"], tid);
}

#[tokio::test]
async fn jwks_keys_have_each_idps_members_order_and_kid_form() {
    let b = browser();
    let cases = [
        (Personality::Okta, "okta/jwks.json", 0),
        (Personality::Entra, "entra/jwks.json", 0),
        (Personality::Adfs, "entra/adfs-jwks.json", 0),
        (Personality::Auth0, "auth0/jwks.json", 0),
        (Personality::Keycloak, "keycloak/jwks.json", 1),
        (Personality::Google, "google/jwks.json", 0),
        (Personality::Cognito, "cognito/jwks.json", 0),
    ];
    for (p, file, sig_index) in cases {
        let idp = start(p).await;
        let jwks = get_json(&b, endpoint(&idp, "default", "keys")).await;
        let captured = reference(file);
        let ours = jwks["keys"].as_array().unwrap();
        let theirs = captured["keys"].as_array().unwrap();
        let ours_sig = ours[sig_index].as_object().unwrap();
        let theirs_sig = theirs[sig_index].as_object().unwrap();
        assert_eq!(
            ours_sig.keys().collect::<Vec<_>>(),
            theirs_sig.keys().collect::<Vec<_>>(),
            "{p}: a signing key's members"
        );
        let kid = ours_sig["kid"].as_str().unwrap();
        match p {
            Personality::Entra | Personality::Adfs => {
                assert_eq!(ours_sig["x5t"], kid, "{p}: kid is the x5t thumbprint")
            }
            Personality::Google => {
                assert!(
                    kid.len() == 40 && kid.bytes().all(|c| c.is_ascii_hexdigit()),
                    "{kid}"
                )
            }
            Personality::Cognito => assert!(kid.ends_with('='), "{kid}"),
            Personality::Auth0 => assert_eq!(kid.len(), 21, "{kid}"),
            _ => assert_eq!(kid.len(), 43, "{kid}"),
        }
        if let Some(x5c) = ours_sig.get("x5c") {
            use base64::Engine;
            let der = base64::engine::general_purpose::STANDARD
                .decode(x5c[0].as_str().unwrap())
                .expect("x5c is base64 DER");
            assert_eq!(der[0], 0x30, "{p}: a DER certificate");
        }
        if p == Personality::Keycloak {
            assert_eq!(
                ours[0]["use"], "enc",
                "Keycloak lists its encryption key first"
            );
            assert_eq!(ours[0]["alg"], "RSA-OAEP");
        }
    }
}

/// The login of Alice on the web client under `p`: the token response.
async fn tokens_under(p: Personality, idp: &MockIdp) -> Value {
    let b = browser();
    let body = alice_tokens(idp, &b, "default").await;
    assert!(body["id_token"].is_string(), "{p}: {body}");
    body
}

#[tokio::test]
async fn id_tokens_have_each_idps_claims_in_its_order() {
    // (personality, captured sample, claims of the sample we do not make).
    let cases: [(Personality, &str, &[&str]); 8] = [
        (Personality::Okta, "okta/id-token.decoded.json", &[]),
        (
            Personality::Entra,
            "entra/id-token.decoded.json",
            &["idp", "prov_data"],
        ),
        (
            Personality::Entra,
            "entra/id-token-member.decoded.json",
            &[],
        ),
        (
            Personality::Auth0,
            "auth0/id-token.decoded.json",
            &["https://example.com/geoip"],
        ),
        (Personality::Keycloak, "keycloak/id-token.decoded.json", &[]),
        (
            Personality::Keycloak,
            "keycloak/id-token-with-nonce-groups.decoded.json",
            &["upn", "resource_access", "address", "groups"],
        ),
        (
            Personality::Google,
            "google/id-token.decoded.json",
            &["jti", "hd"],
        ),
        (
            Personality::Cognito,
            "cognito/id-token.decoded.json",
            &[
                "cognito:groups",
                "user_roles",
                "user_profile",
                "corp_username",
                "identities",
            ],
        ),
    ];
    for (p, file, extra) in cases {
        let idp = start(p).await;
        let body = tokens_under(p, &idp).await;
        let ours = claims(body["id_token"].as_str().unwrap());
        let captured = reference(file);
        let theirs = captured["payload"].as_object().unwrap();
        let mut allowed: Vec<&str> = extra.to_vec();
        // A code-flow login of ours has no c_hash; Alice has no picture at Entra.
        allowed.extend(["c_hash", "nickname"]);
        assert_has_members(&format!("{p} ID token ({file})"), &ours, theirs, &allowed);
        assert_same_order(&format!("{p} ID token ({file})"), &ours, theirs);
        let header = mock_idp::jwt::decode_unverified(body["id_token"].as_str().unwrap())
            .unwrap()
            .0;
        let theirs_header = captured["header"].as_object().unwrap();
        assert_eq!(
            header.keys().collect::<Vec<_>>(),
            theirs_header.keys().collect::<Vec<_>>(),
            "{p}: JWT header members"
        );
    }
}

#[tokio::test]
async fn access_tokens_and_token_responses_have_each_idps_shape() {
    let cases: [(Personality, Option<&str>, &[&str]); 6] = [
        (
            Personality::Okta,
            Some("okta/access-token.decoded.json"),
            &[],
        ),
        // Asked for OpenID scopes only, Entra's access token is Graph's, v1.0.
        (
            Personality::Entra,
            Some("entra/access-token-v1-app.decoded.json"),
            &["idp"],
        ),
        (
            Personality::Auth0,
            Some("auth0/access-token.decoded.json"),
            &["https://api.example.com/roles", "permissions"],
        ),
        (
            Personality::Keycloak,
            Some("keycloak/access-token.decoded.json"),
            &["allowed-origins", "age"],
        ),
        (
            Personality::Cognito,
            Some("cognito/access-token.decoded.json"),
            &[],
        ),
        (Personality::Google, None, &[]),
    ];
    for (p, file, extra) in cases {
        let idp = start(p).await;
        let body = tokens_under(p, &idp).await;
        let at = body["access_token"].as_str().unwrap();
        match file {
            Some(file) => {
                let ours = claims(at);
                let captured = reference(file);
                let theirs = captured["payload"].as_object().unwrap();
                assert_has_members(&format!("{p} access token"), &ours, theirs, extra);
                assert_same_order(&format!("{p} access token"), &ours, theirs);
            }
            None => assert!(at.starts_with("ya29."), "Google's access tokens are opaque"),
        }
        if p == Personality::Cognito {
            let ours = claims(at);
            assert!(
                ours.get("aud").is_none(),
                "Cognito's access token has no aud"
            );
            assert_eq!(ours["token_use"], "access");
            assert_eq!(ours["client_id"], WEB);
        }
        // The token response: the captured members, in the captured order.
        let folder = match p {
            Personality::Okta => "okta",
            Personality::Entra => "entra",
            Personality::Auth0 => "auth0",
            Personality::Keycloak => "keycloak",
            Personality::Cognito => "cognito",
            _ => "google",
        };
        if p == Personality::Okta {
            continue;
        }
        let captured = reference(&format!("{folder}/token-response.json"));
        let theirs = captured.as_object().unwrap();
        let ours = body.as_object().unwrap();
        assert_has_members(
            &format!("{p} token response"),
            ours,
            theirs,
            &["client_info", "refresh_token"],
        );
        assert_same_order(&format!("{p} token response"), ours, theirs);
    }
}

/// Asserts a token-endpoint error: status, `error`, and the description's start.
async fn assert_token_error(
    p: Personality,
    resp: reqwest::Response,
    status: u16,
    error: &str,
    description: Option<&str>,
) -> Value {
    assert_eq!(resp.status(), status, "{p}: status");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], error, "{p}: {body}");
    match description {
        Some(d) => assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|x| x.starts_with(d)),
            "{p}: description {:?}, expected {d:?}",
            body["error_description"]
        ),
        None => assert!(body.get("error_description").is_none(), "{p}: {body}"),
    }
    body
}

#[tokio::test]
async fn captured_token_errors_are_word_for_word() {
    let b = browser();
    // (personality, bad secret: status, error, words; bad code: …; bad verifier: words)
    type Row = (u16, &'static str, Option<&'static str>);
    let cases: [(Personality, Row, Row, Option<&str>); 6] = [
        (
            Personality::Entra,
            (
                401,
                "invalid_client",
                Some("AADSTS7000215: Invalid client secret provided."),
            ),
            (400, "invalid_grant", Some("AADSTS70000: ")),
            Some("AADSTS501481: The Code_Verifier does not match"),
        ),
        (
            Personality::Auth0,
            (401, "access_denied", Some("Unauthorized")),
            (403, "invalid_grant", Some("Invalid authorization code")),
            Some("Failed to verify code verifier"),
        ),
        (
            Personality::Keycloak,
            (
                401,
                "unauthorized_client",
                Some("Invalid client or Invalid client credentials"),
            ),
            (400, "invalid_grant", Some("Code not valid")),
            Some("PKCE verification failed: Code mismatch"),
        ),
        (
            Personality::Google,
            (401, "invalid_client", Some("Unauthorized")),
            (400, "invalid_grant", Some("Bad Request")),
            Some("Invalid code verifier."),
        ),
        (
            Personality::Cognito,
            (400, "invalid_client", None),
            (400, "invalid_grant", None),
            None,
        ),
        (
            Personality::Okta,
            (
                401,
                "invalid_client",
                Some("The client secret supplied for a confidential client is invalid."),
            ),
            (
                400,
                "invalid_grant",
                Some("The authorization code is invalid or has expired."),
            ),
            Some("PKCE verification failed."),
        ),
    ];
    for (p, secret, code, verifier) in cases {
        let idp = start(p).await;
        let token = endpoint(&idp, "default", "token");
        let (c, v) = alice_code(&idp, &browser(), "default").await;
        let resp = b
            .post(&token)
            .basic_auth(WEB, Some("not-the-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", c.as_str()),
                ("redirect_uri", WEB_CB),
                ("code_verifier", v.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let body = assert_token_error(p, resp, secret.0, secret.1, secret.2).await;
        if p == Personality::Entra {
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                [
                    "error",
                    "error_description",
                    "error_codes",
                    "timestamp",
                    "trace_id",
                    "correlation_id",
                    "error_uri"
                ],
                "Entra's error members"
            );
            assert_eq!(body["error_codes"][0], 7_000_215);
            let d = body["error_description"].as_str().unwrap();
            assert!(
                d.contains("\r\nTrace ID: ") && d.contains("\r\nCorrelation ID: "),
                "{d}"
            );
        }
        let resp = redeem(&idp, &b, "default", "not-a-code", &v).await;
        assert_token_error(p, resp, code.0, code.1, code.2).await;
        let (c, _) = alice_code(&idp, &browser(), "default").await;
        let wrong = mock_idp::ids::random_b64(32);
        let resp = redeem(&idp, &b, "default", &c, &wrong).await;
        let status = if p == Personality::Auth0 { 403 } else { 400 };
        assert_token_error(p, resp, status, "invalid_grant", verifier).await;
    }
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_each_idps_page() {
    let b = browser();
    let cases = [
        (Personality::Entra, 200, "AADSTS50011: The redirect URI"),
        (Personality::Auth0, 400, "Callback URL mismatch."),
        (
            Personality::Keycloak,
            400,
            "Invalid parameter: redirect_uri",
        ),
        (Personality::Google, 400, "Error 400: redirect_uri_mismatch"),
        (
            Personality::Okta,
            400,
            "The &#39;redirect_uri&#39; parameter must be a Login redirect URI",
        ),
        (Personality::Adfs, 200, "MSIS9224"),
    ];
    // An authorization request for the web client with a redirect URI it did not register.
    let unregistered = |idp: &MockIdp| {
        let (_, challenge) = pkce();
        let mut params = code_params(&challenge);
        params[1] = ("redirect_uri", "http://127.0.0.1:9/not-registered");
        b.get(authorize_url(idp, "default", &params)).send()
    };
    for (p, status, words) in cases {
        let idp = start(p).await;
        let resp = unregistered(&idp).await.unwrap();
        assert_eq!(resp.status(), status, "{p}");
        let page = resp.text().await.unwrap();
        assert!(page.contains(words), "{p}: {page}");
    }
    // Cognito sends the browser to its own error page instead.
    let idp = start(Personality::Cognito).await;
    let resp = unregistered(&idp).await.unwrap();
    let to = location(&resp);
    assert_eq!(query(&to, "error").as_deref(), Some("redirect_mismatch"));
    assert_eq!(query(&to, "client_id").as_deref(), Some(WEB));
    let page = b.get(to).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("An error was encountered with the requested page."));
}

#[tokio::test]
async fn more_captured_token_errors_are_word_for_word() {
    // (personality, redirect_uri differs, verifier missing, refresh token unknown), each
    // (status, error, words).
    type Row = (u16, &'static str, &'static str);
    let cases: [(Personality, Row, Row, Row); 4] = [
        (
            Personality::Keycloak,
            (400, "invalid_grant", "Incorrect redirect_uri"),
            (400, "invalid_grant", "PKCE code verifier not specified"),
            (400, "invalid_grant", "Invalid refresh token"),
        ),
        (
            Personality::Google,
            (400, "redirect_uri_mismatch", "Bad Request"),
            (400, "invalid_grant", "Missing code verifier."),
            (400, "invalid_grant", "Token has been expired or revoked."),
        ),
        (
            Personality::Entra,
            (400, "invalid_grant", "AADSTS500112: "),
            (400, "invalid_grant", "AADSTS501481: "),
            (
                400,
                "invalid_grant",
                "AADSTS700082: The refresh token has expired due to inactivity.",
            ),
        ),
        (
            Personality::Auth0,
            (403, "invalid_grant", "Invalid redirect_uri"),
            (403, "invalid_grant", "Failed to verify code verifier"),
            (403, "invalid_grant", "Unknown or invalid refresh token."),
        ),
    ];
    for (p, redirect, missing, refresh) in cases {
        let idp = start(p).await;
        let token = endpoint(&idp, "default", "token");
        let post = |form: Vec<(&'static str, String)>| {
            browser()
                .post(&token)
                .basic_auth(WEB, Some(WEB_SECRET))
                .form(&form)
                .send()
        };
        let (code, verifier) = alice_code(&idp, &browser(), "default").await;
        let resp = post(vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", "http://localhost:8080/callback".into()),
            ("code_verifier", verifier),
        ])
        .await
        .unwrap();
        assert_token_error(p, resp, redirect.0, redirect.1, Some(redirect.2)).await;
        let (code, _) = alice_code(&idp, &browser(), "default").await;
        let resp = post(vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", WEB_CB.into()),
        ])
        .await
        .unwrap();
        assert_token_error(p, resp, missing.0, missing.1, Some(missing.2)).await;
        let resp = post(vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", "not-a-refresh-token".into()),
        ])
        .await
        .unwrap();
        assert_token_error(p, resp, refresh.0, refresh.1, Some(refresh.2)).await;
    }
}

#[tokio::test]
async fn userinfo_errors_have_each_idps_challenge() {
    let cases = [
        (
            Personality::Keycloak,
            401,
            "Bearer realm=\"default\", error=\"invalid_token\", error_description=\"Token verification failed\"",
        ),
        (
            Personality::Auth0,
            401,
            "Bearer realm=\"Users\", error=\"invalid_token\"",
        ),
        (Personality::Google, 401, "error=\"invalid_token\""),
        (
            Personality::Okta,
            401,
            "Bearer error=\"invalid_token\", error_description=\"The access token is invalid.\"",
        ),
    ];
    for (p, status, challenge) in cases {
        let idp = start(p).await;
        let resp = browser()
            .get(endpoint(&idp, "default", "userinfo"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{p}");
        let got = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            got.starts_with(challenge) || got.contains(challenge),
            "{p}: {got}"
        );
        if p == Personality::Auth0 {
            assert_eq!(resp.text().await.unwrap(), "Unauthorized");
        }
    }
}

/// A tenant whose default server sends groups, with Alice in `groups` more groups (and
/// her account `managed` or not).
async fn with_groups(p: Personality, groups: usize, managed: bool) -> MockIdp {
    let mut t = mock_idp::Tenant::fixture();
    for s in t.authorization_servers.iter_mut() {
        s.groups_claim = Some("groups".into());
    }
    let alice = t.users.iter_mut().find(|u| u.login == ALICE).unwrap();
    alice
        .groups
        .extend((1..=groups).map(|n| format!("team-{n}")));
    alice.managed = managed;
    MockIdp::builder()
        .personality(p)
        .tenant(t)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn entra_points_to_graph_above_200_groups_and_graph_lists_them() {
    let p = Personality::Entra;
    // Below the limit: the object ids, in the claim's alphabetical place.
    let idp = with_groups(p, 3, true).await;
    let body = tokens_under(p, &idp).await;
    let c = claims(body["id_token"].as_str().unwrap());
    let listed = c["groups"].as_array().unwrap();
    assert!(listed.len() > 3, "hers and three more: {listed:?}");
    assert!(listed.iter().all(|g| g.as_str().unwrap().len() == 36));
    assert!(!c.contains_key("_claim_names"));

    // Above it: no `groups`, a pointer to Graph where `groups` would be.
    let idp = with_groups(p, 201, true).await;
    let before = listed.len() - 3;
    let body = tokens_under(p, &idp).await;
    let c = claims(body["id_token"].as_str().unwrap());
    assert!(!c.contains_key("groups"), "{c:?}");
    assert_eq!(c["_claim_names"], serde_json::json!({"groups": "src1"}));
    let keys: Vec<&str> = c.keys().map(String::as_str).collect();
    let at = keys.iter().position(|k| *k == "_claim_names").unwrap();
    assert_eq!(
        &keys[at - 1..at + 3],
        ["email", "_claim_names", "_claim_sources", "name"]
    );
    let endpoint = c["_claim_sources"]["src1"]["endpoint"].as_str().unwrap();
    let oid = c["oid"].as_str().unwrap();
    assert!(
        endpoint.ends_with(&format!("/v1.0/users/{oid}/getMemberObjects")),
        "{endpoint}"
    );
    assert!(
        endpoint.starts_with(&idp.origins()[1]),
        "on the Graph host: {endpoint}"
    );
    let at_token = body["access_token"].as_str().unwrap();
    let b = browser();
    let body_ok = serde_json::json!({"securityEnabledOnly": false});
    let r = b
        .post(endpoint)
        .bearer_auth(at_token)
        .json(&body_ok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["value"].as_array().unwrap().len(), before + 201);
    // Graph's refusals: no token, another user, no body.
    let r = b.post(endpoint).json(&body_ok).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    let other = endpoint.replace(oid, "00000000-0000-0000-0000-000000000000");
    let r = b
        .post(&other)
        .bearer_auth(at_token)
        .json(&body_ok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = b.post(endpoint).bearer_auth(at_token).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let outcomes: Vec<(u16, String)> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == Some(mock_idp::Endpoint::ClaimSource))
        .map(|e| (e.status, e.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (200, "ok".to_string()),
            (401, "invalid_token".into()),
            (404, "not_found".into()),
            (400, "invalid_request".into()),
        ]
    );
}

#[tokio::test]
async fn groups_arrive_where_each_idp_sends_them() {
    for p in Personality::ALL {
        let idp = with_groups(p, 1, true).await;
        let body = tokens_under(p, &idp).await;
        let Some((token, claim)) = p.groups_at() else {
            // Google sends no groups.
            let c = claims(body["id_token"].as_str().unwrap());
            assert!(!c.keys().any(|k| k.contains("groups")), "{c:?}");
            continue;
        };
        let c = claims(body[token].as_str().unwrap());
        let found = c.get(claim).or_else(|| {
            let (outer, inner) = claim.split_once('.')?;
            c.get(outer)?.get(inner)
        });
        let found = found.unwrap_or_else(|| panic!("{p}: no {claim} in the {token}: {c:?}"));
        assert!(
            found.as_array().unwrap().iter().any(|g| *g
                == mock_idp::personality::claims::group_id(p, "team-1")
                    .unwrap()
                    .as_str()),
            "{p}: {found}"
        );
        if p == Personality::Auth0 {
            // An Action's claims are namespaced, and first.
            assert_eq!(c.keys().next().map(String::as_str), Some(claim));
        }
        if p == Personality::Keycloak {
            // Realm roles are not in the ID token without a mapper.
            let id = claims(body["id_token"].as_str().unwrap());
            assert!(!id.contains_key("realm_access"), "{id:?}");
        }
    }
}

#[tokio::test]
async fn google_sends_hd_for_workspace_accounts_only() {
    let p = Personality::Google;
    for (managed, hd) in [(true, Some("example.com")), (false, None)] {
        let idp = with_groups(p, 0, managed).await;
        let body = tokens_under(p, &idp).await;
        let c = claims(body["id_token"].as_str().unwrap());
        assert_eq!(
            c.get("hd").and_then(Value::as_str),
            hd,
            "managed = {managed}"
        );
        assert_eq!(c["email"], ALICE);
    }
}

#[tokio::test]
async fn entra_access_tokens_are_graphs_unless_an_api_is_asked() {
    let p = Personality::Entra;
    let idp = start(p).await;
    let b = browser();
    // OpenID scopes only: a v1.0 token for Graph, of another issuer, with a header nonce
    // that keeps anyone but Graph from verifying it; Graph's userinfo takes it.
    let body = tokens_under(p, &idp).await;
    let at = body["access_token"].as_str().unwrap();
    let (header, c) = mock_idp::jwt::decode_unverified(at).unwrap();
    assert_eq!(
        header.keys().map(String::as_str).collect::<Vec<_>>(),
        ["typ", "nonce", "alg", "x5t", "kid"]
    );
    assert_eq!(c["aud"], mock_idp::personality::claims::GRAPH_APP_ID);
    let tid = c["tid"].as_str().unwrap();
    assert_eq!(c["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["appid"], WEB);
    let jwks = get_json(&b, endpoint(&idp, "default", "keys")).await;
    let verifies = jwks["keys"].as_array().unwrap().iter().any(|k| {
        let Ok(key) =
            jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(k.clone()).unwrap())
        else {
            return false;
        };
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.validate_aud = false;
        v.validate_exp = false;
        jsonwebtoken::decode::<Value>(at, &key, &v).is_ok()
    });
    assert!(!verifies, "a Graph token verifies with the published keys");
    let userinfo = endpoint(&idp, "default", "userinfo");
    assert_eq!(status(b.get(&userinfo).bearer_auth(at)).await, 200);

    // An API scope: a v2.0 token for the app's API, which Graph's userinfo refuses.
    let (verifier, challenge) = pkce();
    let mut params = code_params(&challenge);
    params.retain(|(k, _)| *k != "scope");
    params.push(("scope", "openid profile email harness:read"));
    let url = authorize_url(&idp, "default", &params);
    let resp = sign_in(&b, &url, ALICE, ALICE_PW).await;
    let code = query(&location(&resp), "code").unwrap();
    let body: Value = redeem(&idp, &b, "default", &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let at = body["access_token"].as_str().unwrap();
    let ours = claims(at);
    let captured = reference("entra/access-token.decoded.json");
    let theirs = captured["payload"].as_object().unwrap();
    assert_has_members("entra API access token", &ours, theirs, &["roles"]);
    assert_same_order("entra API access token", &ours, theirs);
    assert_eq!(ours["ver"], "2.0");
    assert_eq!(status(b.get(&userinfo).bearer_auth(at)).await, 401);
}

#[tokio::test]
async fn a_code_redeemed_twice_is_refused_in_each_idps_words() {
    // Entra alone says which (AADSTS54005); the others as any invalid code.
    let cases: [(Personality, u16, &str); 4] = [
        (
            Personality::Entra,
            400,
            "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.\r\nTrace ID: ",
        ),
        (
            Personality::Okta,
            400,
            "The authorization code is invalid or has expired.",
        ),
        (Personality::Auth0, 403, "Invalid authorization code"),
        (Personality::Keycloak, 400, "Code not valid"),
    ];
    for (p, status, words) in cases {
        let idp = start(p).await;
        let b = browser();
        let (code, verifier) = alice_code(&idp, &b, "default").await;
        assert_eq!(
            redeem(&idp, &b, "default", &code, &verifier).await.status(),
            200
        );
        let again = redeem(&idp, &b, "default", &code, &verifier).await;
        let body = assert_token_error(p, again, status, "invalid_grant", Some(words)).await;
        if p == Personality::Entra {
            assert_eq!(body["error_codes"], serde_json::json!([54005]));
        }
        let last = idp.journal().pop().unwrap();
        assert_eq!(last.outcome, "authorization_code_redeemed", "{p}");
    }
}

#[tokio::test]
async fn cognito_logout_takes_client_id_and_logout_uri_only() {
    let p = Personality::Cognito;
    let idp = start(p).await;
    let logout = endpoint(&idp, "default", "logout");
    let authorize_again = |b: &reqwest::Client| {
        let (_, challenge) = pkce();
        let url = authorize_url(&idp, "default", &code_params(&challenge));
        let b = b.clone();
        async move { b.get(url).send().await.unwrap() }
    };
    // The standard parameters: Cognito's error page, and the user stays signed in.
    let b = browser();
    let body = alice_tokens(&idp, &b, "default").await;
    let resp = b
        .get(logout_url(&idp, body["id_token"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let loc = location(&resp);
    assert_eq!(loc.path(), "/error");
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_client"));
    // With `client_id` beside them (RP-Initiated Logout 1.0 allows it): still no
    // `logout_uri`.
    let mut url = logout_url(&idp, body["id_token"].as_str().unwrap());
    url.query_pairs_mut().append_pair("client_id", WEB);
    let resp = b.get(url).send().await.unwrap();
    let loc = location(&resp);
    assert_eq!(loc.path(), "/error");
    assert_eq!(query(&loc, "error").as_deref(), Some("redirect_mismatch"));
    assert_eq!(query(&loc, "client_id").as_deref(), Some(WEB));
    let again = authorize_again(&b).await;
    assert_eq!(again.status(), 302, "still signed in: a code at once");
    assert!(query(&location(&again), "code").is_some());

    // client_id and an allowed logout_uri: signed out, and back to the app.
    let resp = b
        .get(&logout)
        .query(&[("client_id", WEB), ("logout_uri", "http://127.0.0.1:8080/")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp).as_str(), "http://127.0.0.1:8080/");
    let again = authorize_again(&b).await;
    assert_eq!(again.status(), 200, "signed out: the sign-in page");

    // A sign-out URL that is not allowed: the error page.
    let resp = b
        .get(&logout)
        .query(&[
            ("client_id", WEB),
            ("logout_uri", "http://127.0.0.1:8080/elsewhere"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        query(&location(&resp), "error").as_deref(),
        Some("redirect_mismatch")
    );

    // redirect_uri and response_type: signed out, and the sign-in page again.
    let b = browser();
    alice_tokens(&idp, &b, "default").await;
    let resp = b
        .get(&logout)
        .query(&[
            ("client_id", WEB),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let loc = location(&resp);
    assert_eq!(
        loc.as_str().split('?').next(),
        Some(endpoint(&idp, "default", "authorize").as_str())
    );
    assert_eq!(query(&loc, "state").as_deref(), Some("s1"));
    let again = authorize_again(&b).await;
    assert_eq!(again.status(), 200, "signed out");
    let outcomes: Vec<String> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == Some(mock_idp::Endpoint::Logout))
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            "invalid_client_id",
            "illegal_post_logout_redirect_uri",
            "ok",
            "illegal_post_logout_redirect_uri",
            "ok"
        ]
    );
}

#[tokio::test]
async fn an_expired_code_is_refused_in_each_idps_words() {
    // Entra and Keycloak say it expired; the others as any invalid code.
    let cases: [(Personality, u16, &str); 4] = [
        (
            Personality::Entra,
            400,
            "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.",
        ),
        (Personality::Keycloak, 400, "Code is expired"),
        (
            Personality::Okta,
            400,
            "The authorization code is invalid or has expired.",
        ),
        (Personality::Auth0, 403, "Invalid authorization code"),
    ];
    for (p, status, words) in cases {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let idp = MockIdp::builder()
            .personality(p)
            .clock(mock_idp::Clock::frozen(now))
            .start()
            .await
            .unwrap();
        let b = browser();
        let (code, verifier) = alice_code(&idp, &b, "default").await;
        assert!(idp.clock().advance(601));
        let late = redeem(&idp, &b, "default", &code, &verifier).await;
        assert_token_error(p, late, status, "invalid_grant", Some(words)).await;
        let last = idp.journal().pop().unwrap();
        assert_eq!(last.outcome, "authorization_code_expired", "{p}");
    }
}

#[tokio::test]
async fn only_okta_requires_state_and_state_faults_need_one() {
    // RFC 6749 4.1.1 makes state RECOMMENDED; Okta alone refuses a request without it.
    for p in [
        Personality::Entra,
        Personality::Auth0,
        Personality::Keycloak,
        Personality::Google,
        Personality::Generic,
    ] {
        let idp = start(p).await;
        let guard = idp
            .arm(mock_idp::Fault::new(mock_idp::FaultId::StateMismatch))
            .unwrap();
        let (_, challenge) = pkce();
        let params: Vec<_> = code_params(&challenge)
            .into_iter()
            .filter(|(k, _)| *k != "state")
            .collect();
        let resp = sign_in(
            &browser(),
            &authorize_url(&idp, "default", &params),
            ALICE,
            ALICE_PW,
        )
        .await;
        let to = location(&resp);
        assert!(query(&to, "code").is_some(), "{p}: {to}");
        // Nothing to change: the answer carries no state, and the fault did not strike.
        assert_eq!(query(&to, "state"), None, "{p}: {to}");
        assert_eq!(guard.fired(), 0, "{p}");
    }
    let idp = start(Personality::Okta).await;
    let (_, challenge) = pkce();
    let params: Vec<_> = code_params(&challenge)
        .into_iter()
        .filter(|(k, _)| *k != "state")
        .collect();
    let resp = browser()
        .get(authorize_url(&idp, "default", &params))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query(&location(&resp), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn keycloak_applies_its_default_client_scopes_to_a_bare_openid_request() {
    // A client's default client scopes are applied whatever the scope parameter asks
    // (Keycloak's Server Administration Guide, "Linking client scope to the client").
    for (p, email) in [
        (Personality::Keycloak, Some("alice@example.com")),
        (Personality::Okta, None),
    ] {
        let idp = start(p).await;
        let b = browser();
        let (verifier, challenge) = pkce();
        let mut params = code_params(&challenge);
        params.retain(|(k, _)| *k != "scope");
        params.push(("scope", "openid"));
        let resp = sign_in(
            &b,
            &authorize_url(&idp, "default", &params),
            ALICE,
            ALICE_PW,
        )
        .await;
        let code = query(&location(&resp), "code").expect("a code");
        let body: Value = redeem(&idp, &b, "default", &code, &verifier)
            .await
            .json()
            .await
            .unwrap();
        let claims = Value::Object(claims(body["id_token"].as_str().unwrap()));
        assert_eq!(claims["email"].as_str(), email, "{p}: {claims}");
        assert_eq!(claims["name"].is_string(), email.is_some(), "{p}: {claims}");
    }
}

/// Under a personality whose access tokens' grants the IdP keeps, a token it forgot to stay
/// within its memory is refused at userinfo, and the journal says why (so the refusal
/// cannot pass for the RP's mistake); a token it never signed gets no such word.
#[tokio::test]
async fn an_access_token_forgotten_to_keep_the_budget_is_refused_and_the_journal_says_why() {
    // Auth0's access tokens have no id: the same claims in the same second make the same
    // token, so the clock moves a second between logins.
    let at = |bytes: Option<usize>| {
        let b = MockIdp::builder()
            .personality(Personality::Auth0)
            .clock(mock_idp::Clock::frozen(1_800_000_000));
        match bytes {
            Some(n) => b.store_bytes(n),
            None => b,
        }
        .start()
    };
    let small = at(Some(16 * 1024)).await.unwrap();
    let roomy = at(None).await.unwrap();
    let userinfo = |idp: &MockIdp, token: &str| {
        browser()
            .get(endpoint(idp, "default", "userinfo"))
            .bearer_auth(token)
            .send()
    };
    let detail = |idp: &MockIdp| {
        idp.journal()
            .into_iter()
            .rev()
            .find(|e| e.endpoint == Some(mock_idp::Endpoint::Userinfo))
            .and_then(|e| e.detail)
    };
    for idp in [&small, &roomy] {
        let first = tokens_under(Personality::Auth0, idp).await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let mut last = String::new();
        for _ in 0..20 {
            idp.clock().advance(1);
            last = tokens_under(Personality::Auth0, idp).await["access_token"]
                .as_str()
                .unwrap()
                .to_string();
        }
        assert_eq!(userinfo(idp, &last).await.unwrap().status(), 200);
        let status = userinfo(idp, &first).await.unwrap().status();
        if std::ptr::eq(idp, &small) {
            assert_eq!(status, 401);
            let why = detail(idp).expect("the refusal says why");
            assert!(why.contains("no longer holds"), "{why}");
        } else {
            assert_eq!(status, 200, "within the default budget, the first is kept");
        }
    }
    assert_eq!(userinfo(&roomy, "not-a-token").await.unwrap().status(), 401);
    assert_eq!(detail(&roomy), None);
    assert_eq!(userinfo(&small, "not-a-token").await.unwrap().status(), 401);
    assert_eq!(detail(&small), None, "not a token the IdP signed");
}
