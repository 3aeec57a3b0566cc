//! `/v1/logout` (OpenID Connect RP-Initiated Logout 1.0) and `/login/signout` (the user
//! signing out of the IdP itself: OP-initiated logout). Both end the browser's IdP
//! session and tell the RPs it signed in to ([`crate::logout`]): logout tokens POSTed to
//! back-channel URIs before the page is answered, front-channel URIs in iframes of the
//! page, which then goes on to the post-logout redirect URI.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::{Params, Srv, cookie, entry, finish};
use crate::errors::{self, IdpError, html_escape};
use crate::faults::{FaultId, Strikes};
use crate::journal::{Endpoint, JournalEntry};
use crate::jwt;
use crate::logout::{Notices, deliver};
use crate::state::{Shared, lock};

/// Where the browser goes after logout, and with what.
struct Target {
    url: Option<String>,
    keep_session: bool,
}

/// `GET /v1/logout`: checks the request, ends the IdP session (unless a fault keeps it),
/// tells the RPs, and sends the browser to a registered post-logout URI (with `state`)
/// or shows a signed-out page.
pub async fn logout(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut p = Params::parse(query.unwrap_or_default().as_bytes());
    if shared.personality == crate::personality::Personality::Cognito {
        let mut j = entry(&shared, &srv.id, Endpoint::Logout, &method, &headers);
        j.user_id = cookie(&headers, &shared.cookie_name)
            .and_then(|k| lock(&shared.sessions).get(&k).map(|s| s.user_id.clone()));
        return match cognito_check(&shared, &srv, &p, &mut j) {
            Ok(t) => sign_out(&shared, &headers, j, t).await,
            Err(e) => finish(&shared, j, Err(e)),
        };
    }
    // The IdP's own name for where to go next (Auth0's `returnTo`, PingFederate's
    // `TargetResource`).
    if let Some(alias) = shared.personality.logout_redirect_param() {
        if p.get("post_logout_redirect_uri").is_none() {
            if let Some(v) = p.get(alias).map(str::to_string) {
                p.0.push(("post_logout_redirect_uri".into(), v));
            }
        }
    }
    let mut j = entry(&shared, &srv.id, Endpoint::Logout, &method, &headers);
    j.state = p.get("state").map(str::to_string);
    j.redirect_uri = p.get("post_logout_redirect_uri").map(str::to_string);
    // Without a hint, the browser's session says who is logging out.
    j.user_id = cookie(&headers, &shared.cookie_name)
        .and_then(|k| lock(&shared.sessions).get(&k).map(|s| s.user_id.clone()));
    let target = match check(&shared, &srv.issuer, &srv.id, &p, &mut j) {
        Ok(t) => t,
        Err(e) => return finish(&shared, j, Err(e)),
    };
    sign_out(&shared, &headers, j, target).await
}

/// `GET /login/signout`: the user signs out of the IdP (Okta's dashboard "Sign out"); every
/// RP the session signed in to is told. An optional `fromURI` is where the page goes
/// next, when it is a post-logout URI of a client of the tenant.
pub async fn signout(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    let j = entry(&shared, "org", Endpoint::Logout, &method, &headers);
    let url = p.non_empty("fromURI").and_then(|u| {
        let registered = shared
            .tenant()
            .clients
            .iter()
            .any(|c| c.post_logout_redirect_uris.iter().any(|x| x == u));
        registered.then(|| u.to_string())
    });
    sign_out(
        &shared,
        &headers,
        j,
        Target {
            url,
            keep_session: false,
        },
    )
    .await
}

/// Checks an RP-initiated logout request: the hint (an ID token we signed, expired or
/// not), the client, the post-logout URI; fires the logout faults.
fn check(
    shared: &Shared,
    issuer: &str,
    server: &str,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<Target, IdpError> {
    let invalid = || IdpError::page(errors::INVALID_ID_TOKEN_HINT, "");
    let client_id = match p.non_empty("id_token_hint") {
        Some(hint) => {
            let (header, _) = jwt::decode_unverified(hint).ok_or_else(invalid)?;
            let kid = header
                .get("kid")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?;
            let key = shared.published_key(server, kid).ok_or_else(invalid)?;
            let claims = jwt::verify_rs256(hint, &key).ok_or_else(invalid)?;
            if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
                return Err(invalid());
            }
            let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
            j.user_id = claims
                .get("sub")
                .and_then(Value::as_str)
                .and_then(|sub| shared.user_of_subject(sub, aud));
            // The token presented: the hint, by its `jti` (Entra's `uti`; else its
            // signature, for IdPs whose ID tokens have neither).
            j.token_ref = Some(crate::state::token_id(hint, &claims));
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
    let ctx = shared.fault_ctx(j.user_id.clone().as_deref(), Some(&client_id));
    let wanted = p.non_empty("post_logout_redirect_uri");
    let state = p.get("state");
    // The state faults strike only where there is a state to send back.
    let faults = shared.fire_where(Strikes::Logout, &ctx, j, |id| match id {
        FaultId::LogoutStateMissing | FaultId::LogoutStateOther => {
            wanted.is_some() && state.is_some()
        }
        FaultId::PostLogoutUriUnregistered => wanted.is_some(),
        _ => true,
    });
    let has = |id: FaultId| faults.iter().any(|f| f.id == id);
    let url = match wanted {
        Some(uri)
            if client.post_logout_redirect_uris.iter().any(|u| u == uri)
                && !has(FaultId::PostLogoutUriUnregistered) =>
        {
            let mut url = url::Url::parse(uri)
                .map_err(|_| IdpError::page(errors::ILLEGAL_POST_LOGOUT_REDIRECT_URI, ""))?;
            let state = if has(FaultId::LogoutStateOther) {
                Some(crate::ids::random_b64(16))
            } else {
                state
                    .filter(|_| !has(FaultId::LogoutStateMissing))
                    .map(str::to_string)
            };
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", &state);
            }
            Some(url.into())
        }
        Some(_) => return Err(IdpError::page(errors::ILLEGAL_POST_LOGOUT_REDIRECT_URI, "")),
        None => None,
    };
    Ok(Target {
        url,
        keep_session: has(FaultId::LogoutSessionKept),
    })
}

/// Cognito's `/logout` (`../shared/reference/cognito/logout.txt`): `client_id`, and
/// either `logout_uri`, one of the client's allowed sign-out URLs (the browser goes
/// there), or `redirect_uri` (an allowed callback) with `response_type` (the sign-in page
/// again). It knows no `id_token_hint`, `post_logout_redirect_uri` or `state`: a request
/// with only those ends on its error page, and the user stays signed in.
fn cognito_check(
    shared: &Shared,
    srv: &crate::state::ServerCtx,
    p: &Params,
    j: &mut JournalEntry,
) -> Result<Target, IdpError> {
    let client_id = p
        .non_empty("client_id")
        .ok_or_else(|| IdpError::page(errors::INVALID_CLIENT_ID, ""))?;
    j.client_id = Some(client_id.to_string());
    let client = shared
        .tenant()
        .client(client_id)
        .cloned()
        .ok_or_else(|| IdpError::page(errors::INVALID_CLIENT_ID, ""))?;
    let logout_uri = p.non_empty("logout_uri");
    j.redirect_uri = logout_uri.map(str::to_string);
    let ctx = shared.fault_ctx(j.user_id.clone().as_deref(), Some(client_id));
    // No state goes back: the state faults have nothing to strike.
    let faults = shared.fire_where(Strikes::Logout, &ctx, j, |id| match id {
        FaultId::LogoutStateMissing | FaultId::LogoutStateOther => false,
        FaultId::PostLogoutUriUnregistered => logout_uri.is_some(),
        _ => true,
    });
    let has = |id: FaultId| faults.iter().any(|f| f.id == id);
    let keep_session = has(FaultId::LogoutSessionKept);
    let mismatch = || IdpError::page(errors::ILLEGAL_POST_LOGOUT_REDIRECT_URI, "");
    if let Some(uri) = logout_uri {
        let allowed = client.post_logout_redirect_uris.iter().any(|u| u == uri)
            && !has(FaultId::PostLogoutUriUnregistered);
        if !allowed {
            return Err(mismatch());
        }
        return Ok(Target {
            url: Some(uri.to_string()),
            keep_session,
        });
    }
    match (p.non_empty("redirect_uri"), p.non_empty("response_type")) {
        (Some(redirect), Some(_)) if client.redirect_uris.iter().any(|u| u == redirect) => {
            let authorize = shared.url(srv, Endpoint::Authorize).ok_or_else(mismatch)?;
            let mut url = url::Url::parse(&authorize).map_err(|_| mismatch())?;
            for k in [
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "scope",
            ] {
                if let Some(v) = p.get(k) {
                    url.query_pairs_mut().append_pair(k, v);
                }
            }
            Ok(Target {
                url: Some(url.into()),
                keep_session,
            })
        }
        (Some(_), Some(_)) => Err(IdpError::page(errors::ILLEGAL_REDIRECT_URI, "")),
        _ => Err(mismatch()),
    }
}

/// Ends the browser's session, POSTs the logout tokens, and answers: a redirect, or a
/// page with the front-channel iframes (which then goes on to the target).
async fn sign_out(
    shared: &Shared,
    headers: &HeaderMap,
    mut j: JournalEntry,
    target: Target,
) -> Response {
    let ended = cookie(headers, &shared.cookie_name)
        .filter(|_| !target.keep_session)
        .and_then(|k| shared.end_session(&k));
    let notices = match &ended {
        Some(s) => {
            if j.user_id.is_none() {
                j.user_id = Some(s.user_id.clone());
            }
            shared.logout_notices(s, &mut j)
        }
        None => Notices::default(),
    };
    deliver(shared, notices.backchannel).await;
    if !notices.frontchannel.is_empty() {
        j.detail = Some(format!(
            "{} front-channel logout iframe(s)",
            notices.frontchannel.len()
        ));
    }
    let mut resp = match (&target.url, notices.frontchannel.is_empty()) {
        (Some(url), true) => {
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(url) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        (url, _) => Html(page(url.as_deref(), &notices.frontchannel)).into_response(),
    };
    if !target.keep_session {
        // The session, and the browser state the check-session iframe reads: a watching
        // RP sees `changed`.
        for v in crate::logout::session_cookies(shared, None) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    finish(shared, j, Ok(resp))
}

/// `GET /v1/check_session`: the OP iframe of Session Management 1.0 (section 3.3). An RP
/// frame posts it `client_id session_state`; it recomputes the state from the browser
/// state cookie and answers `unchanged`, `changed` or `error` to the RP's origin.
pub async fn check_session(
    State(shared): State<Arc<Shared>>,
    Srv(srv): Srv,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let mut j = entry(&shared, &srv.id, Endpoint::CheckSession, &method, &headers);
    j.user_id = cookie(&headers, &shared.cookie_name)
        .and_then(|k| lock(&shared.sessions).get(&k).map(|s| s.user_id.clone()));
    let name = crate::logout::opbs_cookie(&shared.cookie_name);
    let page = CHECK_SESSION.replace("OPBS_COOKIE", &name);
    let mut resp = Html(page).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    finish(&shared, j, Ok(resp))
}

/// The check-session iframe's page.
const CHECK_SESSION: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>check session</title></head><body><script>
const b64url = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const opbs = () => {
  const c = document.cookie.split('; ').find((x) => x.startsWith('OPBS_COOKIE='));
  return c ? c.slice('OPBS_COOKIE='.length) : '';
};
window.addEventListener('message', async (e) => {
  if (typeof e.data !== 'string' || !e.source) return;
  const [clientId, sessionState] = e.data.split(' ');
  const [hash, salt] = (sessionState || '').split('.');
  if (!clientId || !hash || salt === undefined) { e.source.postMessage('error', e.origin); return; }
  const input = new TextEncoder().encode(`${clientId} ${e.origin} ${opbs()} ${salt}`);
  const calc = b64url(await crypto.subtle.digest('SHA-256', input));
  e.source.postMessage(calc === hash ? 'unchanged' : 'changed', e.origin);
});
</script></body></html>
"#;

/// The signed-out page: one hidden iframe per front-channel URL, then (once they have all
/// loaded: a refresh comes due only after the page has completely loaded) the target.
fn page(target: Option<&str>, frames: &[String]) -> String {
    let refresh = target
        .map(|t| {
            format!(
                "<meta http-equiv=\"refresh\" content=\"0;url={}\">",
                html_escape(t)
            )
        })
        .unwrap_or_default();
    let iframes: String = frames
        .iter()
        .map(|f| {
            format!(
                "<iframe src=\"{}\" style=\"display:none\" title=\"logout\"></iframe>",
                html_escape(f)
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">{refresh}<title>Signed out</title></head><body><p id=\"signed-out\">You have been signed out.</p>{iframes}</body></html>\n"
    )
}
