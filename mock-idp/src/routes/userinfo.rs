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
    let in_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
                .then(|| v[7..].trim().to_string())
        });
    let in_body = (method == Method::POST)
        .then(|| Params::parse(&body).get("access_token").map(str::to_string))
        .flatten();
    j.bearer = match (&in_header, &in_body) {
        (Some(_), _) => Some("header".into()),
        (None, Some(_)) => Some("body".into()),
        (None, None) => None,
    };
    let bearer = in_header.clone().or_else(|| in_body.clone());
    let invalid = || IdpError::Bearer {
        row: errors::ACCESS_TOKEN_INVALID,
    };
    let claims = bearer.and_then(|t| shared.verify_access_token(&srv, &t));
    let str_claim = |k: &str| {
        claims
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let ctx = shared.fault_ctx(str_claim("uid").as_deref(), str_claim("cid").as_deref());
    j.user_id = ctx.user_id.clone();
    j.client_id = ctx.client_id.clone();
    let allow = cors_origin(&shared, &headers, &ctx, &mut j);
    let result = (|| {
        let claims = claims.clone().ok_or_else(invalid)?;
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
        let user = shared
            .tenant()
            .user(uid)
            .filter(|u| u.active)
            .cloned()
            .ok_or_else(invalid)?;
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
        let faults = shared.fire(Strikes::UserinfoClaims, &ctx, &mut j);
        tamper::userinfo_claims(&srv, &faults, &mut c);
        Ok(json_response(StatusCode::OK, &Value::Object(c)))
    })();
    with_cors(finish(&shared, j, result), allow)
}
