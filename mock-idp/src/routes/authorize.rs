//! `/v1/authorize` and the hosted sign-in page.
//!
//! Validation follows Okta's order and delivery: until the client and its redirect URI
//! are trusted, errors are shown on Okta's own HTML error page (HTTP 400, never
//! redirected); after that they go back to the client in the response mode asked for,
//! `state` first when there is one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{Params, Srv, cookie, entry, finish};
use crate::errors::{self, IdpError, OktaError, html_escape, no_store};
use crate::faults::{Fault, FaultId, Strikes, tamper};
use crate::ids::random_b64;
use crate::journal::{Endpoint, JournalEntry, fingerprint};
use crate::state::{CodeGrant, SESSION_TTL, ServerCtx, Session, Shared, TRANSACTION_TTL, lock};
use crate::tenant::{User, is_known_response_type, normalize_response_type};

/// The longest `state`, `nonce` or `login_hint` kept while the user signs in.
pub const MAX_PARAM: usize = 2048;

/// How the authorization response travels back (OAuth 2.0 Multiple Response Types;
/// Form Post Response Mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `?…` on the redirect URI.
    Query,
    /// `#…` on the redirect URI.
    Fragment,
    /// An auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
    /// Okta's `okta_post_message`: a page that posts the response to its opener or parent.
    PostMessage,
}

impl Mode {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "query" => Self::Query,
            "fragment" => Self::Fragment,
            "form_post" => Self::FormPost,
            "okta_post_message" => Self::PostMessage,
            _ => return None,
        })
    }
}

/// A validated authorization request, kept while the user signs in.
#[derive(Clone, Debug)]
pub struct AuthzRequest {
    /// `org` or the custom server id.
    pub server: String,
    /// The client.
    pub client_id: String,
    /// The registered redirect URI it asked for.
    pub redirect_uri: String,
    /// The response type, words in canonical order.
    pub response_type: String,
    /// The response mode.
    pub mode: Mode,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// The client's state (none only where the IdP does not require one).
    pub state: Option<String>,
    /// The client's nonce.
    pub nonce: Option<String>,
    /// The S256 code challenge.
    pub code_challenge: Option<String>,
    /// Pre-fills the sign-in form.
    pub login_hint: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
}

impl crate::footprint::Footprint for AuthzRequest {
    fn heap_bytes(&self) -> usize {
        self.server.heap_bytes()
            + self.client_id.heap_bytes()
            + self.redirect_uri.heap_bytes()
            + self.response_type.heap_bytes()
            + self.scopes.heap_bytes()
            + self.state.heap_bytes()
            + self.nonce.heap_bytes()
            + self.code_challenge.heap_bytes()
            + self.login_hint.heap_bytes()
            + self.prompt.heap_bytes()
    }
}

enum Reject {
    Page(IdpError),
    Redirect(Box<RedirectError>),
}

/// An error sent back to the client's redirect URI.
struct RedirectError {
    redirect_uri: String,
    mode: Mode,
    state: Option<String>,
    row: OktaError,
    description: String,
}

fn redirect_error(
    p: &Params,
    redirect_uri: &str,
    mode: Mode,
    row: OktaError,
    detail: &str,
) -> Reject {
    Reject::Redirect(Box::new(RedirectError {
        redirect_uri: redirect_uri.to_string(),
        mode,
        state: p.non_empty("state").map(str::to_string),
        row,
        description: row.describe(detail),
    }))
}

/// An error for a validated request: back to its redirect URI, in its mode, with its state.
fn to_client(req: &AuthzRequest, row: OktaError) -> Reject {
    to_client_with(req, row, row.description.into())
}

fn to_client_with(req: &AuthzRequest, row: OktaError, description: String) -> Reject {
    Reject::Redirect(Box::new(RedirectError {
        redirect_uri: req.redirect_uri.clone(),
        mode: req.mode,
        state: req.state.clone(),
        row,
        description,
    }))
}

/// The redirect an `idp-error` fault sends instead of the code.
fn injected_error(req: &AuthzRequest, fault: &Fault) -> Reject {
    let row = match fault.param.as_deref() {
        Some("access_denied") => errors::ACCESS_DENIED,
        Some("login_required") => errors::LOGIN_REQUIRED,
        Some("consent_required") => errors::CONSENT_REQUIRED,
        Some("interaction_required") => errors::INTERACTION_REQUIRED,
        Some("temporarily_unavailable") => errors::TEMPORARILY_UNAVAILABLE,
        _ => errors::SERVER_ERROR,
    };
    to_client_with(req, row, row.describe(&req.scopes.join(", ")))
}

/// `GET /authorize`.
pub async fn authorize_get(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    authorize(&shared, &srv, &method, &headers, &params)
}

/// `POST /authorize` (form-encoded parameters, as Okta accepts).
pub async fn authorize_post(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authorize(&shared, &srv, &method, &headers, &Params::parse(&body))
}

fn authorize(
    shared: &Shared,
    srv: &ServerCtx,
    method: &Method,
    headers: &HeaderMap,
    p: &Params,
) -> Response {
    let mut j = entry(shared, &srv.id, Endpoint::Authorize, method, headers);
    let own = |k: &str| p.get(k).map(str::to_string);
    j.client_id = own("client_id");
    j.redirect_uri = own("redirect_uri");
    j.response_type = own("response_type");
    j.response_mode = own("response_mode");
    j.scope = own("scope");
    j.state = own("state");
    j.nonce = own("nonce");
    j.code_challenge = p
        .non_empty("code_challenge")
        .filter(|c| c.len() <= MAX_PARAM)
        .map(str::to_string);
    j.pkce = p.non_empty("code_challenge").map(|_| {
        p.non_empty("code_challenge_method")
            .unwrap_or("plain")
            .to_string()
    });
    shared.prune();
    let req = match validate(shared, srv, p, &mut j) {
        Ok(req) => req,
        Err(reject) => return finish_reject(shared, j, reject),
    };
    let now = shared.clock.now();
    let session_key = cookie(headers, &shared.cookie_name);
    let session = session_key
        .as_deref()
        .and_then(|sid| lock(&shared.sessions).get(sid).cloned())
        .filter(|s| s.expires_at > now);
    let force_login = req.prompt.iter().any(|x| x == "login");
    let fresh_enough = |s: &Session| req.max_age.is_none_or(|m| now - s.auth_time <= m);
    let user = session
        .as_ref()
        .filter(|s| !force_login && fresh_enough(s))
        .and_then(|s| shared.user(&s.user_id).map(|u| (u, s.auth_time)))
        .filter(|(u, _)| u.active);
    match user {
        Some((user, auth_time)) => {
            let result = complete(
                shared,
                srv,
                &req,
                &user,
                auth_time,
                session_key.as_deref(),
                &mut j,
            );
            match result {
                Ok(resp) => finish(shared, j, Ok(resp)),
                Err(reject) => finish_reject(shared, j, reject),
            }
        }
        None if req.prompt.iter().any(|x| x == "none") => {
            finish_reject(shared, j, to_client(&req, errors::LOGIN_REQUIRED))
        }
        None => {
            let token = random_b64(24);
            shared.known.remember("state_token", &token);
            let hint = req.login_hint.clone();
            // The sign-in form works only from the browser it was shown to (no login
            // CSRF with a stateToken obtained elsewhere).
            let browser =
                cookie(headers, &browser_cookie(shared)).unwrap_or_else(|| random_b64(16));
            lock(&shared.transactions).insert(
                token.clone(),
                now + TRANSACTION_TTL,
                (now + TRANSACTION_TTL, req, browser.clone()),
            );
            let page = sign_in_page(&token, hint.as_deref().unwrap_or(""), None);
            let resp = sign_in_response(shared, StatusCode::OK, page, Some(&browser));
            finish(shared, j, Ok(resp))
        }
    }
}

fn finish_reject(shared: &Shared, mut j: JournalEntry, reject: Reject) -> Response {
    match reject {
        Reject::Page(e) => finish(shared, j, Err(e)),
        Reject::Redirect(r) => {
            let RedirectError {
                redirect_uri,
                mode,
                state,
                row,
                description,
            } = *r;
            j.outcome = row.code.to_string();
            let mut out = Vec::new();
            if let Some(s) = state {
                out.push(("state".to_string(), s));
            }
            out.push(("error".into(), row.error.into()));
            let ctx = crate::personality::errors::ErrorContext {
                origins: shared.origins.clone(),
                now: shared.clock.now(),
                ..Default::default()
            };
            if let Some(d) = crate::personality::errors::redirect_description(
                shared.personality,
                row,
                &description,
                &ctx,
            ) {
                out.push(("error_description".into(), d));
            }
            finish(shared, j, Ok(deliver(&redirect_uri, mode, &out)))
        }
    }
}

fn validate(
    shared: &Shared,
    srv: &ServerCtx,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<AuthzRequest, Reject> {
    // 1. The client must exist; until it does, errors stay on Okta's page.
    let client = p
        .non_empty("client_id")
        .and_then(|id| shared.client(id))
        .ok_or_else(|| Reject::Page(IdpError::page(errors::INVALID_CLIENT_ID, "")))?;
    // 2. The redirect URI must be registered exactly (RFC 6749 3.1.2.3, simple string comparison).
    let redirect_uri = p
        .non_empty("redirect_uri")
        .ok_or_else(|| Reject::Page(IdpError::page(errors::MISSING_REDIRECT_URI, "")))?;
    let registered = client.redirect_uris.iter().any(|u| u == redirect_uri);
    // Before the sign-in only the client is known: these faults are aimed at it.
    let ctx = shared.fault_ctx(None, Some(&client.client_id));
    let faults = shared.fire_where(Strikes::AuthorizeRequest, &ctx, j, |id| match id {
        FaultId::RedirectUriUnregistered => registered,
        _ => true,
    });
    if !registered
        || faults
            .iter()
            .any(|f| f.id == FaultId::RedirectUriUnregistered)
    {
        let admin = format!(
            "{}/admin/app/oidc_client/instance/{}#tab-general",
            shared.origin, client.client_id
        );
        return Err(Reject::Page(IdpError::bad_redirect_page(
            &admin,
            redirect_uri,
        )));
    }
    // From here on errors are redirected back, in the mode the response would use.
    let rt_raw = p.get("response_type").unwrap_or("");
    let rt = normalize_response_type(rt_raw);
    let has_tokens = rt.split(' ').any(|w| w == "id_token" || w == "token");
    let asked_mode = p.non_empty("response_mode").map(|m| (m, Mode::parse(m)));
    let error_mode = match asked_mode {
        Some((_, Some(Mode::Query))) if has_tokens => Mode::Fragment,
        Some((_, Some(m))) => m,
        _ if has_tokens => Mode::Fragment,
        _ => Mode::Query,
    };
    let fail =
        |row: OktaError, detail: &str| redirect_error(p, redirect_uri, error_mode, row, detail);
    // 3. Response type: known, and configured for the client.
    let implicit_ok = !has_tokens || client.allows_grant("implicit");
    if rt_raw.is_empty()
        || !is_known_response_type(rt_raw)
        || !client.allows_response_type(&rt)
        || !implicit_ok
    {
        return Err(fail(
            errors::UNSUPPORTED_RESPONSE_TYPE,
            &client.response_types.join(", "),
        ));
    }
    // 4. Response mode.
    let mode = match asked_mode {
        None => {
            if has_tokens {
                Mode::Fragment
            } else {
                Mode::Query
            }
        }
        Some((_, None)) => return Err(fail(errors::UNSUPPORTED_RESPONSE_MODE, "")),
        Some((_, Some(Mode::Query))) if has_tokens => {
            return Err(fail(errors::RESPONSE_MODE_QUERY_WITH_TOKENS, ""));
        }
        Some((_, Some(Mode::PostMessage))) if rt.split(' ').any(|w| w == "code") => {
            return Err(fail(errors::RESPONSE_MODE_POST_MESSAGE_WITH_CODE, ""));
        }
        Some((_, Some(m))) => m,
    };
    // 5. State is required by Okta; the others take a request without one, as RFC 6749
    // 4.1.1 (RECOMMENDED) allows. Like every value kept while the user signs in, it is
    // bounded: a stranger's megabytes are refused, not stored.
    let state = p.non_empty("state");
    let too_long = state.is_some_and(|s| s.len() > MAX_PARAM);
    if too_long || (state.is_none() && shared.personality.requires_state()) {
        // Not echoed: a refused state is not sent back.
        return Err(redirect_error(
            &Params::default(),
            redirect_uri,
            mode,
            errors::INVALID_STATE,
            "",
        ));
    }
    if ["nonce", "login_hint"]
        .iter()
        .any(|k| p.get(k).is_some_and(|v| v.len() > MAX_PARAM))
    {
        return Err(fail(errors::INVALID_REQUEST, ""));
    }
    // 6. Scopes.
    let scope = p.get("scope").unwrap_or("");
    let scopes: Vec<String> = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return Err(fail(errors::MISSING_SCOPES, ""));
    }
    if scopes.iter().any(|s| !srv.scopes.contains(s)) {
        return Err(fail(errors::INVALID_SCOPE, ""));
    }
    let wants_oidc = rt.contains("id_token")
        || scopes
            .iter()
            .any(|s| ["profile", "email", "address", "phone", "groups"].contains(&s.as_str()));
    if wants_oidc && !scopes.iter().any(|s| s == "openid") {
        return Err(fail(errors::OPENID_SCOPE_REQUIRED, ""));
    }
    // 7. Nonce: required with id_token or token response types.
    let nonce = p.non_empty("nonce").map(str::to_string);
    if has_tokens && nonce.is_none() {
        return Err(fail(errors::INVALID_NONCE, ""));
    }
    // 8. PKCE (RFC 7636 4.3; the method defaults to `plain`): Okta supports only S256,
    // most other IdPs plain too.
    let challenge = p.non_empty("code_challenge");
    let mut code_challenge = None;
    if rt.split(' ').any(|w| w == "code") {
        let allowed = shared.personality.pkce_methods();
        match (challenge, p.non_empty("code_challenge_method")) {
            (Some(_), m) if !allowed.contains(&m.unwrap_or("plain")) => {
                return Err(fail(errors::PKCE_UNSUPPORTED_METHOD, &allowed.join(", ")));
            }
            (Some(c), m) => {
                let legal = (43..=128).contains(&c.len())
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
                if !legal {
                    return Err(fail(errors::PKCE_INVALID_CHALLENGE, ""));
                }
                // A plain challenge is kept as its S256 form: the token endpoint checks
                // every verifier one way.
                code_challenge = Some(if m.unwrap_or("plain") == "plain" {
                    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, c.as_bytes());
                    base64::Engine::encode(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                        d.as_ref(),
                    )
                } else {
                    c.to_string()
                });
            }
            (None, _) if client.requires_pkce() => {
                return Err(fail(errors::PKCE_MISSING_CHALLENGE, ""));
            }
            (None, _) => {}
        }
    }
    // 9. Prompt.
    let prompt: Vec<String> = p
        .get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if prompt
        .iter()
        .any(|x| !["none", "login", "consent"].contains(&x.as_str()))
        || (prompt.iter().any(|x| x == "none") && prompt.len() > 1)
    {
        return Err(fail(
            errors::INVALID_PROMPT,
            "none, consent, login, consent and login",
        ));
    }
    Ok(AuthzRequest {
        server: srv.id.clone(),
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        response_type: rt,
        mode,
        scopes,
        state: state.map(str::to_string),
        nonce,
        code_challenge,
        login_hint: p.non_empty("login_hint").map(str::to_string),
        prompt,
        max_age: p.get("max_age").and_then(|m| m.parse().ok()),
    })
}

/// Issues the authorization response for a signed-in `user`.
fn complete(
    shared: &Shared,
    srv: &ServerCtx,
    req: &AuthzRequest,
    user: &User,
    auth_time: i64,
    session_key: Option<&str>,
    j: &mut JournalEntry,
) -> Result<Response, Reject> {
    j.user_id = Some(user.id.clone());
    let client = shared
        .client(&req.client_id)
        .ok_or_else(|| Reject::Page(IdpError::page(errors::INVALID_CLIENT_ID, "")))?;
    // The session remembers the clients it signed in to (for logout), and names itself
    // in their ID tokens when they take part in channel logout.
    let session_sid =
        session_key.and_then(|k| shared.session_joined(k, &srv.id, &client.client_id));
    // Okta names the session in tokens once the client registers a logout channel; the
    // other IdPs whose tokens carry `sid` (Keycloak, Auth0…) always do.
    let sid = session_sid.clone().filter(|_| {
        client.wants_sid() || shared.personality != crate::personality::Personality::Okta
    });
    let ctx = shared.fault_ctx(Some(&user.id), Some(&client.client_id));
    let refusals = shared.fire(Strikes::SignInOutcome, &ctx, j);
    match refusals.first() {
        Some(f) if f.id == FaultId::IdpError => return Err(injected_error(req, f)),
        Some(_) => return Err(to_client(req, errors::USER_NOT_ASSIGNED)),
        None => {}
    }
    if !client.is_assigned(user) {
        return Err(to_client(req, errors::USER_NOT_ASSIGNED));
    }
    let words: Vec<&str> = req.response_type.split(' ').collect();
    let now = shared.clock.now();
    let code = words.contains(&"code").then(|| {
        let code = random_b64(32);
        shared.known.remember("code", &code);
        lock(&shared.codes).insert(
            code.clone(),
            now + shared.personality.code_ttl(),
            CodeGrant {
                server: srv.id.clone(),
                client_id: client.client_id.clone(),
                redirect_uri: req.redirect_uri.clone(),
                user_id: user.id.clone(),
                scopes: req.scopes.clone(),
                nonce: req.nonce.clone(),
                code_challenge: req.code_challenge.clone(),
                auth_time,
                expires_at: now + shared.personality.code_ttl(),
                redeemed: false,
                issued: Vec::new(),
                sid: sid.clone(),
            },
        );
        j.code_ref = Some(fingerprint(&code));
        code
    });
    let access = words.contains(&"token").then(|| {
        let (token, jti, ttl) = shared.mint_access_token(
            srv,
            &client.client_id,
            Some(user),
            &req.scopes,
            Some(auth_time),
            sid.as_deref(),
        );
        j.token_ref = Some(jti);
        (token, ttl)
    });
    let (access, ttl) = match access {
        Some((t, ttl)) => (Some(t), ttl),
        None => (None, 0),
    };
    let mut out: Vec<(String, String)> = Vec::new();
    if words.contains(&"id_token") {
        let claims = shared.id_token_claims(
            srv,
            &client.client_id,
            user,
            &req.scopes,
            req.nonce.as_deref(),
            auth_time,
            access.is_some(),
            access.as_deref(),
            code.as_deref(),
            sid.as_deref(),
        );
        out.push((
            "id_token".into(),
            shared.issue_id_token(srv, &client, claims, &ctx, j, false),
        ));
    }
    if let Some(at) = access {
        out.push(("access_token".into(), at));
        out.push(("token_type".into(), "Bearer".into()));
        out.push(("expires_in".into(), ttl.to_string()));
        out.push(("scope".into(), req.scopes.join(" ")));
    }
    if let Some(c) = code {
        out.push(("code".into(), c));
    }
    if let Some(s) = &req.state {
        out.push(("state".into(), s.clone()));
    }
    let watched = client.session_management && shared.personality.session_management();
    if let (true, Some(opbs)) = (watched, &session_sid) {
        out.push((
            "session_state".into(),
            crate::logout::session_state(&client.client_id, &req.redirect_uri, opbs),
        ));
    }
    let form_post = req.mode == Mode::FormPost;
    // A state fault needs a state: a request without one has nothing to drop or change.
    let has_state = req.state.is_some();
    let faults = shared.fire_where(Strikes::AuthorizationResponse, &ctx, j, |id| match id {
        FaultId::FormPostOpaqueOrigin => form_post,
        FaultId::StateMissing | FaultId::StateMismatch => has_state,
        _ => true,
    });
    tamper::authorization_params(shared, srv, &faults, &mut out);
    let mut resp = deliver(&req.redirect_uri, req.mode, &out);
    if faults.iter().any(|f| f.id == FaultId::FormPostOpaqueOrigin) {
        // A sandboxed document has an opaque origin: its form POST carries `Origin: null`
        // (Fetch, "serializing a request origin"), as one does after a redirect through
        // another origin.
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox allow-forms allow-scripts"),
        );
    }
    Ok(resp)
}

/// Sends `params` to the client's redirect URI in `mode`.
pub fn deliver(redirect_uri: &str, mode: Mode, params: &[(String, String)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return IdpError::page(errors::ILLEGAL_REDIRECT_URI, redirect_uri).into_response();
    };
    match mode {
        Mode::Query => {
            url.query_pairs_mut().extend_pairs(params);
            redirect(url.as_str())
        }
        Mode::Fragment => {
            let frag = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            url.set_fragment(Some(&frag));
            redirect(url.as_str())
        }
        Mode::FormPost => {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>\n",
                        html_escape(k),
                        html_escape(v)
                    )
                })
                .collect();
            let page = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Submit This Form</title></head>\n<body onload=\"document.forms[0].submit()\">\n<noscript><p>JavaScript is disabled. Press Continue.</p></noscript>\n<form method=\"post\" action=\"{}\">\n{inputs}<noscript><input type=\"submit\" value=\"Continue\"/></noscript>\n</form>\n</body></html>\n",
                html_escape(redirect_uri)
            );
            no_store(Html(page).into_response())
        }
        Mode::PostMessage => {
            let data: serde_json::Map<String, serde_json::Value> = params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            let origin = url.origin().ascii_serialization();
            let data = serde_json::Value::Object(data)
                .to_string()
                .replace('<', "\\u003c");
            let origin_js = serde_json::Value::from(origin)
                .to_string()
                .replace('<', "\\u003c");
            let page = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body><script>\n(window.opener || window.parent).postMessage({data}, {origin_js});\n</script></body></html>\n"
            );
            no_store(Html(page).into_response())
        }
    }
}

fn redirect(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    no_store(resp)
}

/// The hosted sign-in page. Field ids follow Okta's sign-in widget so browser drivers
/// can find them.
pub fn sign_in_page(state_token: &str, username: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| {
            format!(
                "<div class=\"o-form-error-container\" role=\"alert\"><p>{}</p></div>\n",
                html_escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign In</title></head>
<body>
<main id="okta-sign-in" class="auth-container">
<h2 class="okta-form-title">Sign In</h2>
{error}<form id="form-signin" method="post" action="/signin">
<input type="hidden" name="stateToken" value="{}"/>
<label for="okta-signin-username">Username</label>
<input type="text" id="okta-signin-username" name="username" value="{}" autocomplete="username"/>
<label for="okta-signin-password">Password</label>
<input type="password" id="okta-signin-password" name="password" autocomplete="current-password"/>
<input type="submit" id="okta-signin-submit" value="Sign In"/>
</form>
</main>
</body></html>
"#,
        html_escape(state_token),
        html_escape(username)
    )
}

/// `POST /signin`: checks the credentials typed in the sign-in page, opens an IdP session
/// and answers the pending authorization request.
pub async fn sign_in(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let token = p.get("stateToken").unwrap_or("").to_string();
    let now = shared.clock.now();
    let browser = cookie(&headers, &browser_cookie(&shared));
    let pending = lock(&shared.transactions)
        .get(&token)
        .filter(|(exp, _, shown_to)| *exp > now && browser.as_deref() == Some(shown_to.as_str()))
        .map(|(_, r, _)| r.clone());
    let server = pending
        .as_ref()
        .map_or("org".to_string(), |r| r.server.clone());
    let mut j = entry(&shared, &server, Endpoint::SignIn, &method, &headers);
    let Some(req) = pending else {
        return finish(&shared, j, Err(IdpError::page(errors::REQUEST_EXPIRED, "")));
    };
    j.client_id = Some(req.client_id.clone());
    j.state = req.state.clone();
    let username = p.get("username").unwrap_or("").trim().to_string();
    let user = shared
        .user(&username)
        .filter(|u| u.active && u.password.matches(p.get("password").unwrap_or("")));
    let Some(user) = user else {
        j.outcome = "authentication_failed".into();
        let page = sign_in_page(&token, &username, Some("Unable to sign in"));
        return finish(
            &shared,
            j,
            Ok(sign_in_response(
                &shared,
                StatusCode::UNAUTHORIZED,
                page,
                None,
            )),
        );
    };
    lock(&shared.transactions).remove(&token);
    let sid = random_b64(32);
    shared.known.remember("session", &sid);
    let public_sid = random_b64(16);
    lock(&shared.sessions).insert(
        sid.clone(),
        now + SESSION_TTL,
        Session {
            user_id: user.id.clone(),
            auth_time: now,
            expires_at: now + SESSION_TTL,
            sid: public_sid.clone(),
            clients: Vec::new(),
        },
    );
    let Some(srv) = shared.server_ctx(&req.server) else {
        return finish(&shared, j, Err(IdpError::unknown_server(&req.server)));
    };
    let mut resp = match complete(&shared, &srv, &req, &user, now, Some(&sid), &mut j) {
        Ok(resp) => resp,
        Err(reject) => {
            return with_cookie(
                finish_reject(&shared, j, reject),
                &shared,
                &sid,
                &public_sid,
            );
        }
    };
    resp = with_cookie(resp, &shared, &sid, &public_sid);
    finish(&shared, j, Ok(resp))
}

/// The cookie naming the browser a sign-in form was shown to.
fn browser_cookie(shared: &Shared) -> String {
    format!("{}_tx", shared.cookie_name)
}

/// The sign-in page: never framed (no clickjacking of the credentials form), and with
/// the cookie that binds its stateToken to this browser.
fn sign_in_response(
    shared: &Shared,
    status: StatusCode,
    page: String,
    browser: Option<&str>,
) -> Response {
    let mut resp = (status, Html(page)).into_response();
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    if let Some(b) = browser {
        let secure = if shared.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{}={b}; Path=/; HttpOnly; SameSite=Lax{secure}",
            browser_cookie(shared)
        )) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The session's cookies on `resp` ([`crate::logout::session_cookies`]).
fn with_cookie(mut resp: Response, shared: &Shared, sid: &str, opbs: &str) -> Response {
    for v in crate::logout::session_cookies(shared, Some((sid, opbs))) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
