//! `/v1/token`, `/v1/introspect`, `/v1/revoke` and client authentication.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::{Params, Srv, cors_origin, entry, finish, with_cors};
use crate::errors::{self, IdpError, json_response, json_text_response};
use crate::faults::{FaultCtx, FaultId, Strikes, tamper};
use crate::journal::{Endpoint, JournalEntry, fingerprint};
use crate::state::{RefreshGrant, ServerCtx, Shared, StoredRefresh, lock};
use crate::tenant::{AuthMethod, Client, User};

/// Client authentication at the token, introspect and revoke endpoints
/// (RFC 6749 2.3.1; Okta's errors and statuses). With `bare_id`, a Basic header holding
/// only a client id (no colon) names a public client, as Okta's own browser SDK sends it to
/// /revoke and /introspect (okta-auth-js: `btoa(clientId)` when it has no secret).
pub fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    p: &Params,
    j: &mut JournalEntry,
    bare_id: bool,
) -> Result<Arc<Client>, IdpError> {
    if Params::parse(query.unwrap_or("").as_bytes())
        .get("client_secret")
        .is_some()
    {
        return Err(IdpError::json(errors::CLIENT_CREDENTIALS_IN_QUERY));
    }
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(v) if v.len() > 6 && v[..6].eq_ignore_ascii_case("basic ") => Some(
            parse_basic(&v[6..])
                .filter(|(_, secret)| secret.is_some() || bare_id)
                .ok_or_else(|| IdpError::json(errors::INVALID_BASIC_AUTH_CREDS))?,
        ),
        _ => None,
    };
    let body_secret = p.get("client_secret");
    if basic.is_some() && body_secret.is_some() {
        return Err(IdpError::json(errors::MULTIPLE_CLIENT_CREDENTIALS));
    }
    let (client_id, secret, method) = match (&basic, body_secret) {
        (Some((id, None)), _) => (id.clone(), None, AuthMethod::None),
        (Some((id, Some(secret))), _) => (
            id.clone(),
            Some(secret.clone()),
            AuthMethod::ClientSecretBasic,
        ),
        (None, Some(secret)) => (
            p.get("client_id").unwrap_or("").to_string(),
            Some(secret.to_string()),
            AuthMethod::ClientSecretPost,
        ),
        (None, None) => match p.non_empty("client_id") {
            Some(id) => (id.to_string(), None, AuthMethod::None),
            None => return Err(IdpError::json(errors::MISSING_CLIENT_CREDENTIALS)),
        },
    };
    j.client_id = Some(client_id.clone());
    j.client_auth = Some(method.as_str().to_string());
    if basic.is_some() && p.non_empty("client_id").is_some_and(|id| id != client_id) {
        return Err(IdpError::json(errors::INVALID_CLIENT));
    }
    let client = shared.client(&client_id).ok_or_else(|| IdpError::Api {
        status: 401,
        code: "invalid_client",
        summary: errors::INVALID_CLIENT_ID.description.into(),
    })?;
    match (client.auth_method(), method) {
        (AuthMethod::None, AuthMethod::None) => Ok(client),
        (registered, used) if registered == used => {
            let ok = match (&client.client_secret, &secret) {
                (Some(s), Some(given)) => s.matches(given),
                _ => false,
            };
            if ok {
                Ok(client)
            } else {
                Err(IdpError::json(errors::INVALID_CLIENT_SECRET))
            }
        }
        (_, AuthMethod::None) => Err(IdpError::json(errors::INVALID_CLIENT)),
        _ => Err(IdpError::json(errors::INVALID_TOKEN_ENDPOINT_AUTH_METHOD)),
    }
}

/// Decodes `base64(urlencode(id) ":" urlencode(secret))`, or `base64(id)` alone (no secret).
fn parse_basic(b64: &str) -> Option<(String, Option<String>)> {
    let raw = STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = match text.split_once(':') {
        Some((id, secret)) => (id, Some(secret)),
        None => (text.as_str(), None),
    };
    // Form-urlencoded (RFC 6749 2.3.1), and UTF-8 or nothing.
    let decode = |s: &str| String::from_utf8(super::form_decode(s.as_bytes())).ok();
    let id = decode(id)?;
    (!id.is_empty()).then_some(())?;
    let secret = match secret {
        Some(s) => Some(decode(s)?),
        None => None,
    };
    Some((id, secret))
}

const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// `POST /token`.
pub async fn token(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let mut j = entry(&shared, &srv.id, Endpoint::Token, &method, &headers);
    j.grant_type = p.get("grant_type").map(str::to_string);
    j.redirect_uri = p.get("redirect_uri").map(str::to_string);
    j.scope = p.get("scope").map(str::to_string);
    j.pkce = p.non_empty("code_verifier").map(|_| "verifier".to_string());
    if let Some(v) = p.non_empty("code_verifier") {
        shared.known.remember("code_verifier", v);
    }
    j.code_ref = p.non_empty("code").map(fingerprint);
    let ctx = token_ctx(&shared, &headers, &p);
    // The user of the code or refresh token, known even when the request is refused.
    j.user_id = ctx.user_id.clone();
    let allow = cors_origin(&shared, &headers, &ctx, &mut j);
    let pre = shared.fire(Strikes::TokenRequest, &ctx, &mut j);
    if let Some(f) = pre.iter().find(|f| f.id == FaultId::TokenEndpointSlow) {
        let ms: u64 = f
            .param
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(10_000);
        tokio::time::sleep(std::time::Duration::from_millis(ms.min(60_000))).await;
    }
    let result = match pre.iter().find(|f| f.id == FaultId::TokenEndpoint5xx) {
        Some(f) => {
            let status: u16 = f
                .param
                .as_deref()
                .and_then(|p| p.parse().ok())
                .unwrap_or(500);
            let reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Internal Server Error");
            Err(IdpError::Api {
                status,
                code: "E0000009",
                summary: reason.into(),
            })
        }
        None => token_inner(&shared, &srv, &ctx, &headers, query.as_deref(), &p, &mut j)
            .map(|body| token_response(&shared, body, &ctx, &mut j)),
    };
    with_cors(finish(&shared, j, result), allow)
}

/// Who a token request is about, before it is processed: the client it names, and the
/// user of the code or refresh token it carries.
fn token_ctx(shared: &Shared, headers: &HeaderMap, p: &Params) -> FaultCtx {
    let basic_id = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "))
        .and_then(|v| parse_basic(&v[6..]))
        .map(|(id, _)| id);
    let client_id = basic_id.or_else(|| p.get("client_id").map(str::to_string));
    let user_id = match p.get("grant_type") {
        Some("authorization_code") => lock(&shared.codes)
            .get(p.get("code").unwrap_or(""))
            .map(|g| g.user_id.clone()),
        Some("refresh_token") => lock(&shared.refresh_tokens)
            .get(p.get("refresh_token").unwrap_or(""))
            .map(|g| g.user_id().to_string()),
        _ => None,
    };
    shared.fault_ctx(user_id.as_deref(), client_id.as_deref())
}

/// The token response after the faults on its body.
fn token_response(
    shared: &Shared,
    mut body: Value,
    ctx: &FaultCtx,
    j: &mut JournalEntry,
) -> Response {
    let faults = shared.fire(Strikes::TokenResponse, ctx, j);
    if let Some(map) = body.as_object_mut() {
        tamper::token_response_members(&faults, map);
    }
    // serde_json's writer straight into a buffer (`Display` goes through fmt::Write), one
    // sized for the tokens: grown from `to_string`'s 128 bytes, it is copied five times.
    let room = body.as_object().map_or(0, |m| {
        m.iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(24, str::len) + 6)
            .sum()
    });
    let mut bytes = Vec::with_capacity(room + 2);
    let text = match serde_json::to_writer(&mut bytes, &body) {
        Ok(()) => String::from_utf8(bytes).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let text = if faults
        .iter()
        .any(|f| f.id == FaultId::TokenResponseMalformed)
    {
        tamper::truncate_json(&text)
    } else {
        text
    };
    json_text_response(StatusCode::OK, text)
}

fn token_inner(
    shared: &Shared,
    srv: &ServerCtx,
    ctx: &FaultCtx,
    headers: &HeaderMap,
    query: Option<&str>,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<Value, IdpError> {
    let client = authenticate(shared, headers, query, p, j, false)?;
    if !shared
        .fire(Strikes::ClientAuthentication, ctx, j)
        .is_empty()
    {
        return Err(IdpError::json(errors::INVALID_CLIENT_SECRET));
    }
    let configured = client.grant_types.join(", ");
    let grant = p
        .non_empty("grant_type")
        .ok_or_else(|| IdpError::json_with(errors::MISSING_GRANT_TYPE, &configured))?;
    if !GRANTS.contains(&grant) {
        return Err(IdpError::json_with(
            errors::UNSUPPORTED_GRANT_TYPE,
            &configured,
        ));
    }
    if !client.allows_grant(grant) {
        return Err(IdpError::json_with(
            errors::UNAUTHORIZED_CLIENT,
            &configured,
        ));
    }
    match grant {
        "authorization_code" => authorization_code(shared, srv, ctx, &client, p, j),
        "refresh_token" => refresh(shared, srv, ctx, &client, p, j),
        _ => client_credentials(shared, srv, &client, p, j),
    }
}

fn authorization_code(
    shared: &Shared,
    srv: &ServerCtx,
    ctx: &FaultCtx,
    client: &Client,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<Value, IdpError> {
    if !shared.fire(Strikes::CodeRedemption, ctx, j).is_empty() {
        return Err(IdpError::json(errors::INVALID_AUTHORIZATION_CODE));
    }
    let now = shared.clock.now();
    let code = p.get("code").unwrap_or("");
    let grant = {
        let mut codes = lock(&shared.codes);
        let invalid = || IdpError::json(errors::INVALID_AUTHORIZATION_CODE);
        let mut grant = codes
            .get_mut(code)
            .filter(|g| g.server == srv.id)
            .ok_or_else(invalid)?;
        if grant.expires_at <= now {
            return Err(IdpError::json(errors::AUTHORIZATION_CODE_EXPIRED));
        }
        j.user_id = Some(grant.user_id.clone());
        if grant.redeemed {
            // RFC 6749 4.1.2: a code used twice is refused, and what it issued is revoked.
            let issued = std::mem::take(&mut grant.issued);
            let until = now + shared.access_token_ttl(&grant.client_id);
            drop(grant);
            drop(codes);
            revoke_issued(shared, &issued, until);
            return Err(IdpError::json(errors::AUTHORIZATION_CODE_REDEEMED));
        }
        if grant.client_id != client.client_id {
            return Err(IdpError::json(errors::MISMATCHED_CLIENT));
        }
        if p.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
            return Err(IdpError::json(errors::MISMATCHED_REDIRECT_URI));
        }
        // RFC 7636 4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge.
        match (&grant.code_challenge, p.non_empty("code_verifier")) {
            (Some(_), None) => return Err(IdpError::json(errors::PKCE_MISSING_VERIFIER)),
            (Some(challenge), Some(verifier)) => {
                let digest =
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
                let legal = (43..=128).contains(&verifier.len())
                    && verifier
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
                if !legal || URL_SAFE_NO_PAD.encode(digest.as_ref()) != *challenge {
                    return Err(IdpError::json(errors::PKCE_VERIFICATION_FAILED));
                }
            }
            (None, Some(_)) => {
                return Err(IdpError::json(
                    errors::PKCE_MISSING_CHALLENGE_VERIFIER_PRESENT,
                ));
            }
            (None, None) if client.is_public() => {
                return Err(IdpError::json(errors::PKCE_MISSING_VERIFIER));
            }
            (None, None) => {}
        }
        grant.redeemed = true;
        grant.clone()
    };
    let user = active_user(shared, &grant.user_id)
        .ok_or_else(|| IdpError::json(errors::INVALID_AUTHORIZATION_CODE))?;
    let refresh = RefreshGrant {
        server: srv.id.clone(),
        client_id: client.client_id.clone(),
        user_id: user.id.clone(),
        scopes: grant.scopes.clone(),
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
    };
    let (body, issued) = user_tokens(
        shared,
        srv,
        ctx,
        client,
        &user,
        &refresh,
        grant.nonce.as_deref(),
        None,
        j,
    );
    if let Some(mut g) = lock(&shared.codes).get_mut(code) {
        g.issued.extend(issued);
    }
    Ok(body)
}

fn refresh(
    shared: &Shared,
    srv: &ServerCtx,
    ctx: &FaultCtx,
    client: &Client,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<Value, IdpError> {
    let token = p.get("refresh_token").unwrap_or("");
    let invalid = || IdpError::json(errors::INVALID_REFRESH_TOKEN);
    let grant = {
        let refresh = lock(&shared.refresh_tokens);
        let grant = refresh
            .get(token)
            .filter(|g| g.server() == srv.id && g.client_id() == client.client_id)
            .map(StoredRefresh::grant);
        if grant.is_none() && !token.is_empty() {
            // A false fail must not look like the RP's fault: say what the IdP forgot.
            j.detail = refresh
                .forgetting("oldest refresh tokens it issued")
                .map(|f| format!("not a refresh token the IdP holds for this client; {f}"));
        }
        grant.ok_or_else(invalid)?
    };
    j.user_id = Some(grant.user_id.clone());
    let mut scoped = grant.clone();
    if let Some(scope) = p.non_empty("scope") {
        let asked: Vec<String> = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let denied: Vec<&str> = asked
            .iter()
            .filter(|s| !grant.scopes.contains(s))
            .map(String::as_str)
            .collect();
        if !denied.is_empty() {
            return Err(IdpError::json_with(
                errors::REFRESH_SCOPES_DENIED,
                &denied.join(", "),
            ));
        }
        scoped.scopes = asked;
    }
    let user = active_user(shared, &grant.user_id).ok_or_else(invalid)?;
    Ok(user_tokens(
        shared,
        srv,
        ctx,
        client,
        &user,
        &scoped,
        None,
        Some(token),
        j,
    )
    .0)
}

fn client_credentials(
    shared: &Shared,
    srv: &ServerCtx,
    client: &Client,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<Value, IdpError> {
    if srv.is_org() {
        return Err(IdpError::json(errors::CLIENT_CREDS_ORG_AS));
    }
    if client.is_public() {
        return Err(IdpError::json(errors::CONFIDENTIAL_CLIENT_REQUIRED));
    }
    let scopes: Vec<String> = p
        .get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return Err(IdpError::json(errors::NO_DEFAULT_SCOPES));
    }
    if scopes
        .iter()
        .any(|s| crate::state::OIDC_SCOPES.contains(&s.as_str()))
    {
        return Err(IdpError::json(errors::OPENID_NOT_ALLOWED_CLIENT_CREDS));
    }
    if scopes.iter().any(|s| !srv.scopes.contains(s)) {
        return Err(IdpError::json(errors::INVALID_SCOPE));
    }
    let (access, jti, ttl) =
        shared.mint_access_token(srv, &client.client_id, None, &scopes, None, None);
    j.token_ref = Some(jti);
    // Built, not `json!`, which would copy the token through a serializer.
    let mut body = Map::new();
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), ttl.into());
    body.insert("access_token".into(), access.into());
    body.insert("scope".into(), scopes.join(" ").into());
    Ok(Value::Object(body))
}

fn active_user(shared: &Shared, id: &str) -> Option<Arc<User>> {
    shared.user(id).filter(|u| u.active)
}

/// The token response for a user grant (keys in Okta's order). Returns the body and
/// what was issued (access token `jti`, refresh token), for revocation on code reuse.
#[allow(clippy::too_many_arguments)]
fn user_tokens(
    shared: &Shared,
    srv: &ServerCtx,
    ctx: &FaultCtx,
    client: &Client,
    user: &User,
    grant: &RefreshGrant,
    nonce: Option<&str>,
    existing_refresh: Option<&str>,
    j: &mut JournalEntry,
) -> (Value, Vec<String>) {
    let (access, jti, ttl) = shared.mint_access_token(
        srv,
        &client.client_id,
        Some(user),
        &grant.scopes,
        Some(grant.auth_time),
        grant.sid.as_deref(),
    );
    j.token_ref = Some(jti.clone());
    let mut issued = vec![jti];
    let mut body = Map::new();
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), ttl.into());
    body.insert("access_token".into(), access.clone().into());
    body.insert("scope".into(), grant.scopes.join(" ").into());
    let wants_refresh =
        grant.scopes.iter().any(|s| s == "offline_access") && client.allows_grant("refresh_token");
    if wants_refresh {
        let rt = existing_refresh
            .map(str::to_string)
            .unwrap_or_else(|| shared.issue_refresh_token(grant));
        issued.push(rt.clone());
        body.insert("refresh_token".into(), rt.into());
    }
    if grant.scopes.iter().any(|s| s == "openid") {
        // The ID token beside an access token is thin (Okta); OIDC Core 3.1.3.6: at_hash.
        let claims = shared.id_token_claims(
            srv,
            &client.client_id,
            user,
            &grant.scopes,
            nonce,
            grant.auth_time,
            true,
            Some(&access),
            None,
            grant.sid.as_deref(),
        );
        body.insert(
            "id_token".into(),
            shared
                .issue_id_token(srv, client, claims, ctx, j, existing_refresh.is_some())
                .into(),
        );
    }
    crate::personality::claims::shape_token_response(
        shared.personality,
        &mut body,
        grant.sid.as_deref(),
    );
    (Value::Object(body), issued)
}

/// Revokes what a code issued: its access tokens (kept as revoked until `until`, past
/// their expiry) and its refresh token.
fn revoke_issued(shared: &Shared, issued: &[String], until: i64) {
    let mut revoked = lock(&shared.revoked);
    let mut refresh = lock(&shared.refresh_tokens);
    for item in issued {
        if item.starts_with("AT.") {
            revoked.insert(item.as_str(), until, ());
        } else {
            refresh.remove(item);
        }
    }
}

/// `POST /introspect` (RFC 7662).
pub async fn introspect(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let mut j = entry(&shared, &srv.id, Endpoint::Introspect, &method, &headers);
    let allow = cors_origin(&shared, &headers, &token_ctx(&shared, &headers, &p), &mut j);
    let result = authenticate(&shared, &headers, query.as_deref(), &p, &mut j, true).map(|client| {
        let token = p.get("token").unwrap_or("");
        let body = if let Some(c) = shared.verify_access_token(&srv, token).filter(|c| c.get("cid").and_then(Value::as_str) == Some(client.client_id.as_str())) {
            j.token_ref = c.get("jti").and_then(Value::as_str).map(str::to_string);
            let scp = c.get("scp").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "));
            let mut m = Map::new();
            m.insert("active".into(), true.into());
            m.insert("scope".into(), scp.unwrap_or_default().into());
            m.insert("username".into(), c.get("sub").cloned().unwrap_or(Value::Null));
            for k in ["exp", "iat", "sub", "aud", "iss", "jti"] {
                m.insert(k.into(), c.get(k).cloned().unwrap_or(Value::Null));
            }
            m.insert("token_type".into(), "Bearer".into());
            m.insert("client_id".into(), client.client_id.clone().into());
            if let Some(uid) = c.get("uid") {
                m.insert("uid".into(), uid.clone());
            }
            Value::Object(m)
        } else if let Some(g) = lock(&shared.refresh_tokens).get(token).filter(|g| g.server() == srv.id && g.client_id() == client.client_id) {
            let login = shared.tenant().user(g.user_id()).map(|u| u.login.clone());
            json!({"active": true, "token_type": "refresh_token", "scope": g.scopes(), "client_id": g.client_id(), "username": login, "sub": login, "uid": g.user_id()})
        } else {
            j.detail = shared.forgotten_access_token(&srv, token);
            json!({"active": false})
        };
        json_response(StatusCode::OK, &body)
    });
    with_cors(finish(&shared, j, result), allow)
}

/// `POST /revoke` (RFC 7009): 200 with an empty body, even for unknown tokens.
pub async fn revoke(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let mut j = entry(&shared, &srv.id, Endpoint::Revoke, &method, &headers);
    let allow = cors_origin(&shared, &headers, &token_ctx(&shared, &headers, &p), &mut j);
    let result =
        authenticate(&shared, &headers, query.as_deref(), &p, &mut j, true).map(|client| {
            let token = p.get("token").unwrap_or("");
            if let Some(c) = shared.verify_access_token(&srv, token) {
                if c.get("cid").and_then(Value::as_str) == Some(client.client_id.as_str()) {
                    if let Some(jti) = c.get("jti").and_then(Value::as_str) {
                        j.token_ref = Some(jti.to_string());
                        // Kept as revoked until the token expires anyway.
                        let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(i64::MAX);
                        lock(&shared.revoked).insert(jti, exp, ());
                    }
                    // Whose token it was, so that the user's journal shows the revocation.
                    j.user_id = c.get("uid").and_then(Value::as_str).map(str::to_string);
                }
            } else {
                let mut refresh = lock(&shared.refresh_tokens);
                if let Some(g) = refresh
                    .get(token)
                    .filter(|g| g.client_id() == client.client_id)
                {
                    j.user_id = Some(g.user_id().to_string());
                    refresh.remove(token);
                }
            }
            StatusCode::OK.into_response()
        });
    with_cors(finish(&shared, j, result), allow)
}
