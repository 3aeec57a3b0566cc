//! `/v1/logout` (OpenID Connect RP-Initiated Logout 1.0).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::{Params, Srv, cookie, entry, finish};
use crate::errors::{self, IdpError};
use crate::faults::{FaultId, Strikes};
use crate::journal::Endpoint;
use crate::jwt;
use crate::state::{Shared, lock};

/// `GET /logout`: ends the IdP session and sends the browser to a registered
/// post-logout URI (with `state`), or shows a signed-out page.
pub async fn logout(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    let mut j = entry(&shared, &srv.id, Endpoint::Logout, &method, &headers);
    j.state = p.get("state").map(str::to_string);
    j.redirect_uri = p.get("post_logout_redirect_uri").map(str::to_string);
    let result = (|| {
        let invalid = || IdpError::page(errors::INVALID_ID_TOKEN_HINT, "");
        // The hint must be an ID token we signed for this server; an expired one is fine.
        let client_id = match p.non_empty("id_token_hint") {
            Some(hint) => {
                let (header, _) = jwt::decode_unverified(hint).ok_or_else(invalid)?;
                let kid = header
                    .get("kid")
                    .and_then(Value::as_str)
                    .ok_or_else(invalid)?;
                let key = shared.published_key(&srv.id, kid).ok_or_else(invalid)?;
                let claims = jwt::verify_rs256(hint, &key).ok_or_else(invalid)?;
                if claims.get("iss").and_then(Value::as_str) != Some(srv.issuer.as_str()) {
                    return Err(invalid());
                }
                j.user_id = claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                claims
                    .get("aud")
                    .and_then(Value::as_str)
                    .ok_or_else(invalid)?
                    .to_string()
            }
            None => p.non_empty("client_id").ok_or_else(invalid)?.to_string(),
        };
        j.client_id = Some(client_id.clone());
        let client = shared
            .tenant()
            .client(&client_id)
            .cloned()
            .ok_or_else(|| IdpError::page(errors::INVALID_CLIENT_ID, ""))?;
        let target = match p.non_empty("post_logout_redirect_uri") {
            Some(uri) if client.post_logout_redirect_uris.iter().any(|u| u == uri) => Some(uri),
            Some(_) => return Err(IdpError::page(errors::ILLEGAL_POST_LOGOUT_REDIRECT_URI, "")),
            None => None,
        };
        let ctx = shared.fault_ctx(j.user_id.clone().as_deref(), Some(&client_id));
        let faults = shared.fire(Strikes::Logout, &ctx, &mut j);
        let has = |id: FaultId| faults.iter().any(|f| f.id == id);
        let keep_session = has(FaultId::LogoutSessionKept);
        if let Some(sid) = cookie(&headers, &shared.cookie_name).filter(|_| !keep_session) {
            lock(&shared.sessions).remove(&sid);
        }
        let mut resp = match target {
            Some(uri) => {
                let mut url = url::Url::parse(uri).map_err(|_| IdpError::page(errors::ILLEGAL_POST_LOGOUT_REDIRECT_URI, ""))?;
                if let Some(state) = p.get("state").filter(|_| !has(FaultId::LogoutStateMissing)) {
                    url.query_pairs_mut().append_pair("state", state);
                }
                let mut r = axum::http::StatusCode::FOUND.into_response();
                if let Ok(v) = HeaderValue::from_str(url.as_str()) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            None => Html("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Signed out</title></head><body><p id=\"signed-out\">You have been signed out.</p></body></html>\n").into_response(),
        };
        let expire = format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            shared.cookie_name,
            if shared.secure_cookies {
                "; Secure"
            } else {
                ""
            }
        );
        if let (false, Ok(v)) = (keep_session, HeaderValue::from_str(&expire)) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        Ok(resp)
    })();
    finish(&shared, j, result)
}
