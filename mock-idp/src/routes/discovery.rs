//! Discovery documents and JWKS, shaped after captured Okta documents
//! (`src/okta/discovery-*.json`, fields in Okta's order).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{Srv, cors_origin, entry, finish, with_cors};
use crate::errors::{IdpError, json_bytes_response, json_response, json_text_response};
use crate::faults::{FaultCtx, FaultId, Strikes, tamper};
use crate::journal::Endpoint;
use crate::state::{ServerCtx, Shared};

const ORG_TEMPLATE: &str = include_str!("../okta/discovery-org.json");
const CUSTOM_TEMPLATE: &str = include_str!("../okta/discovery-custom-default.json");

/// The discovery document of `srv`.
pub fn document(shared: &Shared, srv: &ServerCtx) -> Value {
    let p = shared.personality;
    if p != crate::personality::Personality::Okta {
        let mut doc = p.discovery(&shared.origins, &srv.id, &srv.segment);
        advertise_logout(shared, srv, &mut doc);
        return doc;
    }
    let text = if srv.is_org() {
        ORG_TEMPLATE.replace("https://{yourOktaDomain}", &shared.origin)
    } else {
        CUSTOM_TEMPLATE
            .replace("https://{yourOktaDomain}/oauth2/default", &srv.issuer)
            .replace("https://{yourOktaDomain}", &shared.origin)
    };
    let mut doc: Value = serde_json::from_str(&text).expect("discovery templates are JSON");
    if !srv.is_org() {
        if let Some(scopes) = doc
            .get_mut("scopes_supported")
            .and_then(Value::as_array_mut)
        {
            for s in &srv.scopes {
                if !scopes.iter().any(|x| x == s.as_str()) {
                    scopes.push(Value::from(s.as_str()));
                }
            }
        }
        // Custom servers grant client_credentials (the org server does not).
        if let Some(grants) = doc
            .get_mut("grant_types_supported")
            .and_then(Value::as_array_mut)
        {
            let at = grants
                .iter()
                .position(|g| g == "password")
                .map_or(grants.len(), |p| p + 1);
            grants.insert(at, Value::from("client_credentials"));
        }
    }
    advertise_logout(shared, srv, &mut doc);
    doc
}

/// Okta publishes no channel logout; once a client of the tenant registers a channel,
/// the IdP says it supports it (Back-Channel Logout 1.0 2.1, Front-Channel Logout 1.0 3),
/// with `sid` in ID tokens and logout messages. Likewise the check-session iframe of
/// Session Management 1.0 once a client watches its session.
fn advertise_logout(shared: &Shared, srv: &ServerCtx, doc: &mut Value) {
    let tenant = shared.tenant();
    let channels = [
        (
            "backchannel",
            shared.personality.backchannel_logout()
                && tenant
                    .clients
                    .iter()
                    .any(|c| c.backchannel_logout_uri.is_some()),
        ),
        (
            "frontchannel",
            shared.personality.frontchannel_logout()
                && tenant
                    .clients
                    .iter()
                    .any(|c| c.frontchannel_logout_uri.is_some()),
        ),
    ];
    let session_management = shared.personality.session_management() && tenant.watches_sessions();
    if let Some(obj) = doc.as_object_mut() {
        for (channel, on) in channels.into_iter().filter(|(_, on)| *on) {
            obj.insert(format!("{channel}_logout_supported"), on.into());
            obj.insert(format!("{channel}_logout_session_supported"), on.into());
        }
        if session_management {
            if let Some(url) = shared.url(srv, Endpoint::CheckSession) {
                obj.insert("check_session_iframe".into(), url.into());
            }
        }
    }
}

/// `GET …/.well-known/openid-configuration` (and `oauth-authorization-server`).
pub async fn discovery(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    req: axum::extract::Request,
) -> Response {
    // The request itself, not its parts cloned by extractors: the hot path's allocations.
    let (method, headers) = (req.method(), req.headers());
    let uri = super::original_uri(&req);
    let mut j = entry(&shared, &srv.id, Endpoint::Discovery, method, headers);
    // Browsers (single-page RPs) read discovery too: CORS for trusted origins, as Okta.
    let allow = cors_origin(&shared, headers, &FaultCtx::default(), &mut j);
    // `?appid=`: the metadata of one app, whose keys are at `jwks_uri?appid=` (Entra's
    // custom signing keys; Databricks' `{issuer-url}?appid=123`).
    let appid = appid_of(uri);
    if !shared.faults.any_at(Strikes::Discovery) && appid.is_none() {
        // The hot path: bytes prepared once per server.
        let body = shared.discovery_bytes(&srv);
        return with_cors(
            finish(&shared, j, Ok(json_bytes_response(StatusCode::OK, body))),
            allow,
        );
    }
    let faults = shared.fire(Strikes::Discovery, &FaultCtx::default(), &mut j);
    let mut doc = document(&shared, &srv);
    if let (Some(id), Some(jwks)) = (&appid, doc["jwks_uri"].as_str()) {
        doc["jwks_uri"] = format!("{jwks}?appid={}", encode(id)).into();
    }
    let mut malformed = false;
    for f in &faults {
        match f.id {
            FaultId::DiscoveryUnavailable => {
                return with_cors(finish(&shared, j, Err(unavailable())), allow);
            }
            FaultId::DiscoveryMalformed => malformed = true,
            FaultId::DiscoveryIssuerMismatch => {
                doc["issuer"] = tamper::other_issuer(&shared, &srv).into()
            }
            FaultId::Es256 | FaultId::Es256BadSignature => {
                if let Some(algs) = doc
                    .get_mut("id_token_signing_alg_values_supported")
                    .and_then(Value::as_array_mut)
                {
                    if !algs.iter().any(|a| a == "ES256") {
                        algs.push("ES256".into());
                    }
                }
            }
            FaultId::JwksUriMoved => {
                let mut moved = moved_jwks_uri(&shared, &srv);
                if let Some(id) = &appid {
                    moved = format!("{moved}?appid={}", encode(id));
                }
                doc["jwks_uri"] = moved.into();
            }
            _ => {}
        }
    }
    let text = if malformed {
        tamper::truncate_json(&doc.to_string())
    } else {
        doc.to_string()
    };
    with_cors(
        finish(&shared, j, Ok(json_text_response(StatusCode::OK, text))),
        allow,
    )
}

/// The `appid` query parameter of a metadata or keys request, if any.
fn appid_of(uri: &axum::http::Uri) -> Option<String> {
    uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "appid")
            .map(|(_, v)| v.into_owned())
    })
}

fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// What an unavailable endpoint answers: 503 (in Okta's API error shape under Okta).
fn unavailable() -> IdpError {
    IdpError::Api {
        status: 503,
        code: "E0000009",
        summary: "Service Unavailable".into(),
    }
}

/// Where the keys are while `jwks-uri-moved` is armed: a path no RP can guess.
fn moved_jwks_uri(shared: &Shared, srv: &ServerCtx) -> String {
    let keys = shared.url(srv, Endpoint::Keys).unwrap_or_default();
    format!("{keys}/{}", shared.moved_jwks)
}

/// What Okta answers for a path it does not serve.
fn not_found() -> IdpError {
    IdpError::Api {
        status: 404,
        code: "E0000007",
        summary: "Not found: Resource not found".into(),
    }
}

/// `GET …/v1/keys`: the published keys of the server; while `jwks-uri-moved` is armed
/// they are at `…/v1/keys/{moved}` only, where discovery says, and the usual path answers
/// 404 (only an RP that reads `jwks_uri` from discovery finds them).
pub async fn keys(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    req: axum::extract::Request,
) -> Response {
    // The request itself, not its parts cloned by extractors: the hot path's allocations.
    let (method, headers) = (req.method(), req.headers());
    let uri = super::original_uri(&req);
    let mut j = entry(&shared, &srv.id, Endpoint::Keys, method, headers);
    let ctx = FaultCtx::default();
    let allow = cors_origin(&shared, headers, &ctx, &mut j);
    let asked_moved = moved_suffix(&shared, uri.path());
    // `?appid=` of an app with its own signing key: its key besides the server's.
    let app = appid_of(uri).filter(|id| {
        shared
            .tenant()
            .client(id)
            .is_some_and(|c| c.app_signing_key)
    });
    // The hot path (no keys fault, `jwks-uri-moved` included): bytes prepared once.
    if asked_moved.is_none() && app.is_none() && !shared.faults.any_at(Strikes::Keys) {
        let body = shared.jwks_bytes(&srv);
        return with_cors(
            finish(&shared, j, Ok(json_bytes_response(StatusCode::OK, body))),
            allow,
        );
    }
    let moved = shared.faults.is_armed(FaultId::JwksUriMoved);
    let served_here = match asked_moved {
        Some(suffix) => moved && suffix == shared.moved_jwks,
        None => !moved,
    };
    if !served_here {
        return with_cors(finish(&shared, j, Err(not_found())), allow);
    }
    let faults = shared.fire(Strikes::Keys, &ctx, &mut j);
    jwks_answer(&shared, &srv, j, allow, &faults, app.is_some())
}

/// The last segment of a keys path one segment longer than the IdP's keys route (where
/// the keys are while `jwks-uri-moved` is armed).
fn moved_suffix<'a>(shared: &Shared, path: &'a str) -> Option<&'a str> {
    if shared.personality == crate::personality::Personality::Okta {
        return path.split_once("/keys/").map(|(_, rest)| rest);
    }
    let route = shared
        .personality
        .routes()
        .iter()
        .find(|r| r.endpoint == Endpoint::Keys)?;
    let depth = route.path.matches('/').count();
    (path.matches('/').count() == depth + 1).then(|| path.rsplit('/').next().unwrap_or(""))
}

/// The JWKS as the keys faults that fired make it.
fn jwks_answer(
    shared: &Shared,
    srv: &ServerCtx,
    j: crate::journal::JournalEntry,
    allow: Option<axum::http::HeaderValue>,
    faults: &[crate::faults::Fault],
    app_key: bool,
) -> Response {
    let has = |id: FaultId| faults.iter().any(|f| f.id == id);
    if has(FaultId::JwksUnavailable) {
        return with_cors(finish(shared, j, Err(unavailable())), allow);
    }
    // While `kid-absent-single-key` is armed, only the signing key is published, so an
    // ID token without `kid` has exactly one candidate (OpenID RP test
    // rp-id_token-kid-absent-single-jwks). The journal names it on this answer: the RP
    // fetched the one-key JWKS.
    let single = has(FaultId::KidAbsentSingleKey);
    let keys = shared.with_ring(&srv.id, |r| {
        if single {
            vec![r.active().jwk()]
        } else {
            r.published().iter().map(|k| k.jwk()).collect()
        }
    });
    let mut jwks = if single {
        serde_json::json!({ "keys": keys })
    } else {
        shared.jwks(srv, keys)
    };
    if has(FaultId::JwksUnparseableKey) {
        if let Some(keys) = jwks["keys"].as_array_mut() {
            keys.push(serde_json::json!({
                "kty": "RSA", "alg": "RS256", "kid": "unparseable-key-0", "use": "sig",
                "e": "AQAB", "n": "this is not base64url!"
            }));
        }
    }
    if app_key {
        if let Some(keys) = jwks["keys"].as_array_mut() {
            keys.push(shared.app_key().jwk());
        }
    }
    // The ES256 faults publish their P-256 key beside the RSA keys.
    if has(FaultId::Es256) || has(FaultId::Es256BadSignature) {
        if let Some(keys) = jwks["keys"].as_array_mut() {
            keys.push(shared.ec_key.jwk());
        }
    }
    with_cors(
        finish(shared, j, Ok(json_response(StatusCode::OK, &jwks))),
        allow,
    )
}
