//! `/v1/userinfo` (OIDC Core 5.3).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use super::{Params, Srv, cors_origin, entry, finish, with_cors};
use crate::errors::{self, IdpError, json_response};
use crate::faults::{FaultId, Strikes, tamper};
use crate::journal::Endpoint;
use crate::state::{Shared, groups_of};

/// A string claim of a verified access token.
fn string_claim(claims: Option<&serde_json::Map<String, Value>>, k: &str) -> Option<String> {
    claims?.get(k)?.as_str().map(str::to_string)
}

/// The token of an `Authorization: Bearer …` header (RFC 6750 2.1).
fn bearer_header(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ")).then(|| v[7..].trim())
}

/// `GET|POST /userinfo`: the user's claims for a valid access token of this server.
pub async fn userinfo(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut j = entry(&shared, &srv.id, Endpoint::Userinfo, &method, &headers);
    // RFC 6750 2.1 (header) and 2.2 (form body); never the query (2.3 is not offered).
    let in_header = bearer_header(&headers).map(str::to_string);
    let in_body = (method == Method::POST)
        .then(|| Params::parse(&body).get("access_token").map(str::to_string))
        .flatten();
    j.bearer = match (&in_header, &in_body) {
        (Some(_), _) => Some("header".into()),
        (None, Some(_)) => Some("body".into()),
        (None, None) => None,
    };
    let bearer = in_header.clone().or_else(|| in_body.clone());
    // Entra's userinfo is Graph's: it takes Graph's access tokens only (an app that asked
    // for its own API's scope holds a token Graph refuses).
    let graph_refuses = shared.personality == crate::personality::Personality::Entra
        && !bearer
            .as_deref()
            .and_then(crate::jwt::decode_unverified)
            .is_some_and(|(_, c)| {
                c.get("aud").and_then(Value::as_str)
                    == Some(crate::personality::claims::GRAPH_APP_ID)
            });
    let invalid = || IdpError::Bearer {
        row: errors::ACCESS_TOKEN_INVALID,
    };
    let claims = bearer
        .as_deref()
        .and_then(|t| shared.verify_access_token(&srv, t));
    if claims.is_none() {
        j.detail = bearer
            .as_deref()
            .and_then(|t| shared.forgotten_access_token(&srv, t));
    }
    let str_claim = |k: &str| string_claim(claims.as_ref(), k);
    let ctx = shared.fault_ctx(str_claim("uid").as_deref(), str_claim("cid").as_deref());
    j.user_id = ctx.user_id.clone();
    j.client_id = ctx.client_id.clone();
    let allow = cors_origin(&shared, &headers, &ctx, &mut j);
    let result = (|| {
        let claims = claims
            .clone()
            .filter(|_| !graph_refuses)
            .ok_or_else(invalid)?;
        for f in shared.fire(Strikes::UserinfoAuthorization, &ctx, &mut j) {
            // The bearer modes look for the token in one place only: sent elsewhere, it
            // is refused as an invalid token.
            let refused = match f.id {
                FaultId::UserinfoBearerHeaderOnly => in_header.is_none(),
                FaultId::UserinfoBearerBodyOnly => in_body.is_none(),
                _ => true,
            };
            if refused {
                return Err(invalid());
            }
        }
        j.token_ref = claims
            .get("jti")
            .and_then(Value::as_str)
            .map(str::to_string);
        j.client_id = claims
            .get("cid")
            .and_then(Value::as_str)
            .map(str::to_string);
        let uid = claims
            .get("uid")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?;
        j.user_id = Some(uid.to_string());
        let scopes: Vec<&str> = claims
            .get("scp")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let has = |s: &str| scopes.contains(&s);
        if !has("openid") {
            return Err(invalid());
        }
        if !["profile", "email", "address", "phone"]
            .iter()
            .any(|s| has(s))
        {
            return Err(IdpError::Bearer {
                row: errors::INSUFFICIENT_SCOPE_USERINFO,
            });
        }
        let user = shared.user(uid).filter(|u| u.active).ok_or_else(invalid)?;
        let p = &user.profile;
        let mut c = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                c.insert(k.to_string(), v);
            }
        };
        let s = |v: &Option<String>| v.clone().map(Value::from);
        // Okta's order: sub, name, locale, email, preferred_username, given_name,
        // family_name, zoneinfo, updated_at, email_verified.
        let client_id = claims.get("cid").and_then(Value::as_str).unwrap_or("");
        put(
            "sub",
            Some(crate::personality::claims::subject(shared.personality, &user, client_id).into()),
        );
        if has("profile") {
            put("name", user.display_name().map(Value::from));
            put("locale", s(&p.locale));
        }
        if has("email") {
            put("email", s(&p.email));
        }
        if has("profile") {
            put("preferred_username", Some(user.login.clone().into()));
            put("nickname", s(&p.nickname));
            put("given_name", s(&p.given_name));
            put("middle_name", s(&p.middle_name));
            put("family_name", s(&p.family_name));
            put("zoneinfo", s(&p.zoneinfo));
            put("picture", s(&p.picture));
            put("updated_at", p.updated_at.map(Value::from));
        }
        if has("email") {
            put("email_verified", Some(p.email_verified.into()));
        }
        if has("phone") {
            put("phone_number", s(&p.phone_number));
        }
        if let Some(claim) = srv
            .groups_claim
            .clone()
            .or_else(|| (srv.is_org() && has("groups")).then(|| "groups".into()))
        {
            put(&claim, Some(Value::from(groups_of(&user))));
        }
        shared.add_custom_claims(client_id, &user, &mut c);
        let app_claims = shared
            .tenant()
            .client(client_id)
            .map(|cl| crate::faults::app_claims_in(cl, &c))
            .unwrap_or_default();
        let faults = shared.fire_where(Strikes::UserinfoClaims, &ctx, &mut j, |id| {
            id != FaultId::AppClaimsMissing || !app_claims.is_empty()
        });
        tamper::userinfo_claims(&srv, &faults, &mut c);
        if faults.iter().any(|f| f.id == FaultId::AppClaimsMissing) {
            for k in &app_claims {
                c.remove(k);
            }
        }
        Ok(json_response(StatusCode::OK, &Value::Object(c)))
    })();
    with_cors(finish(&shared, j, result), allow)
}

/// `POST /v1.0/users/{oid}/getMemberObjects` on Entra's Graph host: the object ids of the
/// user's groups, where a token's groups overage points (`_claim_sources`). As Graph
/// does: the access token in the header, a JSON body with `securityEnabledOnly`, the
/// user's own object id in the path; the answer is `{"value": [...]}`.
pub async fn member_objects(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    axum::extract::Path(oid): axum::extract::Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut j = entry(&shared, &srv.id, Endpoint::ClaimSource, &method, &headers);
    let bearer = bearer_header(&headers);
    j.bearer = bearer.map(|_| "header".into());
    let claims = bearer.and_then(|t| shared.verify_access_token(&srv, t));
    let str_claim = |k: &str| string_claim(claims.as_ref(), k);
    j.user_id = str_claim("uid");
    j.client_id = str_claim("cid");
    let now = crate::personality::claims::iso8601(shared.clock.now());
    let graph_error = |status: StatusCode, code: &str, message: String| {
        let body = serde_json::json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now.trim_end_matches(".000Z").to_string() + "Z",
                "request-id": crate::ids::random_uuid(),
                "client-request-id": crate::ids::random_uuid(),
            },
        }});
        json_response(status, &body)
    };
    let user = j
        .user_id
        .as_deref()
        .and_then(|uid| shared.user(uid).filter(|u| u.active));
    let (outcome, resp) = match user {
        None => (
            "invalid_token",
            graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                if bearer.is_none() {
                    "Access token is empty.".into()
                } else {
                    "Access token validation failure.".into()
                },
            ),
        ),
        Some(u) if crate::personality::claims::oid(&u) != oid => (
            "not_found",
            graph_error(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!(
                    "Resource '{oid}' does not exist or one of its queried reference-property objects are not present."
                ),
            ),
        ),
        Some(u) => {
            let json: Option<Value> = serde_json::from_slice(&body).ok();
            match json.as_ref().map(|v| &v["securityEnabledOnly"]) {
                Some(Value::Bool(_)) => {
                    let ids = crate::personality::claims::groups(shared.personality, &u);
                    let body = serde_json::json!({
                        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
                        "value": ids,
                    });
                    ("ok", json_response(StatusCode::OK, &body))
                }
                _ => (
                    "invalid_request",
                    graph_error(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        "The request body must be a JSON object with the boolean parameter 'securityEnabledOnly'.".into(),
                    ),
                ),
            }
        }
    };
    j.outcome = outcome.into();
    finish(&shared, j, Ok(resp))
}
