//! Discovery documents and JWKS, shaped after captured Okta documents
//! (`src/okta/discovery-*.json`, fields in Okta's order).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::{Srv, cors, entry, finish};
use crate::errors::json_response;
use crate::journal::Endpoint;
use crate::state::{ServerCtx, Shared};

const ORG_TEMPLATE: &str = include_str!("../okta/discovery-org.json");
const CUSTOM_TEMPLATE: &str = include_str!("../okta/discovery-custom-default.json");

/// The discovery document of `srv`.
pub fn document(shared: &Shared, srv: &ServerCtx) -> Value {
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
    doc
}

/// `GET …/.well-known/openid-configuration` (and `oauth-authorization-server`).
pub async fn discovery(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let j = entry(&shared, &srv.id, Endpoint::Discovery, &method, &headers);
    let resp = json_response(StatusCode::OK, &document(&shared, &srv));
    finish(&shared, j, Ok(resp))
}

/// `GET …/v1/keys`: the published keys of the server.
pub async fn keys(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let j = entry(&shared, &srv.id, Endpoint::Keys, &method, &headers);
    let jwks = shared.with_ring(&srv.id, |r| r.jwks());
    let resp = cors(&shared, &headers, json_response(StatusCode::OK, &jwks));
    finish(&shared, j, Ok(resp))
}
