//! The HTTP surface: Okta's paths for the org server and every custom server, the hosted
//! sign-in page, and the admin API under `/_harness/`.

pub mod admin;
pub mod authorize;
pub mod discovery;
pub mod logout;
pub mod token;
pub mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::errors::IdpError;
use crate::faults::{FaultCtx, Strikes};
use crate::journal::{Endpoint, JournalEntry};
use crate::state::{ServerCtx, Shared};

/// The largest body an OAuth endpoint reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest body the admin API reads (a whole tenant).
pub const MAX_ADMIN_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Builds the router over shared state (kept apart from serving, so tests can call it
/// in-process with `tower::ServiceExt::oneshot`). The paths are the personality's.
pub fn app(shared: Arc<Shared>) -> Router {
    let oauth = match shared.personality {
        crate::personality::Personality::Okta => okta_routes(),
        p => personality_routes(p),
    };
    let oauth = oauth
        .route("/signin", reads_body(post(authorize::sign_in)))
        .route("/login/signout", get(logout::signout))
        // For container health checks (no token needed, nothing journaled); not an
        // endpoint of the IdPs it plays.
        .route("/healthz", get(|| async { "ok" }));
    Router::new()
        .merge(oauth)
        .nest(
            "/_harness",
            admin::routes(shared.clone()).layer(DefaultBodyLimit::max(MAX_ADMIN_BODY_BYTES)),
        )
        .fallback(not_found)
        .with_state(shared)
}

type Route = axum::routing::MethodRouter<Arc<Shared>>;

/// A handler that reads a body: no OAuth request needs more than [`MAX_BODY_BYTES`], and
/// a bigger body is refused before it is read. Only these carry the limit: a layer over
/// every route would cost each discovery and JWKS request an extension of its own.
fn reads_body(r: Route) -> Route {
    r.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The handlers of one endpoint.
fn handlers(endpoint: Endpoint) -> Option<Route> {
    Some(match endpoint {
        Endpoint::Discovery => get(discovery::discovery).options(preflight),
        Endpoint::Keys => get(discovery::keys).options(preflight),
        Endpoint::Authorize => {
            reads_body(post(authorize::authorize_post)).get(authorize::authorize_get)
        }
        Endpoint::Token => reads_body(post(token::token)).options(preflight),
        // One handler for both methods, which reads the body of either.
        Endpoint::Userinfo => {
            reads_body(get(userinfo::userinfo).post(userinfo::userinfo)).options(preflight)
        }
        Endpoint::Introspect => reads_body(post(token::introspect)).options(preflight),
        Endpoint::Revoke => reads_body(post(token::revoke)).options(preflight),
        Endpoint::Logout => get(logout::logout),
        Endpoint::CheckSession => get(logout::check_session),
        Endpoint::ClaimSource => reads_body(post(userinfo::member_objects)),
        Endpoint::SignIn | Endpoint::BackchannelLogout | Endpoint::Scim => return None,
    })
}

/// Okta's paths: the org server (`/oauth2/v1/…`) and every custom server
/// (`/oauth2/{server}/v1/…`).
fn okta_routes() -> Router<Arc<Shared>> {
    let endpoints = [
        ("/authorize", Endpoint::Authorize),
        ("/token", Endpoint::Token),
        ("/keys", Endpoint::Keys),
        ("/keys/{moved}", Endpoint::Keys),
        ("/userinfo", Endpoint::Userinfo),
        ("/introspect", Endpoint::Introspect),
        ("/revoke", Endpoint::Revoke),
        ("/logout", Endpoint::Logout),
        ("/check_session", Endpoint::CheckSession),
    ];
    let mut oauth = Router::new();
    // Every path spelled out (no nested routers): one route lookup per request.
    for (path, e) in endpoints {
        let r = handlers(e).expect("OAuth endpoints have handlers");
        oauth = oauth
            .route(&format!("/oauth2/v1{path}"), r.clone())
            .route(&format!("/oauth2/{{server}}/v1{path}"), r);
    }
    for path in ["/openid-configuration", "/oauth-authorization-server"] {
        let r = handlers(Endpoint::Discovery).expect("discovery has handlers");
        oauth = oauth
            .route(&format!("/.well-known{path}"), r.clone())
            .route(&format!("/oauth2/{{server}}/.well-known{path}"), r);
    }
    oauth
}

/// Another IdP's paths, from its route table; its keys also answer under
/// `{jwks}/{moved}` for `jwks-uri-moved`.
fn personality_routes(p: crate::personality::Personality) -> Router<Arc<Shared>> {
    let mut oauth = Router::new();
    for r in p.routes() {
        let Some(h) = handlers(r.endpoint) else {
            continue;
        };
        oauth = oauth.route(r.path, h);
        if r.endpoint == Endpoint::Keys {
            oauth = oauth.route(
                &format!("{}/{{moved}}", r.path),
                handlers(r.endpoint).expect("keys"),
            );
        }
    }
    if p == crate::personality::Personality::Cognito {
        oauth = oauth.route("/error", get(cognito_error));
    }
    oauth
}

/// Cognito's `/error` page, where it sends browsers it cannot send back to the client.
async fn cognito_error() -> Response {
    crate::personality::errors::cognito_error_page()
}

/// Paths the IdP does not serve (including endpoints Okta advertises that a mock has no
/// use for, such as dynamic registration): Okta's 404, journaled like everything else.
async fn not_found(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    uri: axum::http::Uri,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let mut j = entry(
        &shared,
        server_id_of_path(&shared, path),
        None,
        &method,
        &headers,
    );
    // Which path it was (no query: nothing secret), for whoever reads the journal.
    j.detail = Some(format!(
        "no such path: {}",
        path.chars().take(200).collect::<String>()
    ));
    let err = IdpError::Api {
        status: 404,
        code: "E0000007",
        summary: "Not found: Resource not found".into(),
    };
    finish(&shared, j, Err(err))
}

/// The URI as the client sent it (before any nesting stripped a prefix).
pub fn original_uri(req: &axum::extract::Request) -> &axum::http::Uri {
    req.extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri(), |o| &o.0)
}

/// The authorization server a request is for, taken from its path; an unknown custom
/// server id answers Okta's E0000007 404.
pub struct Srv(pub Arc<ServerCtx>);

impl FromRequestParts<Arc<Shared>> for Srv {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, Response> {
        // Okta's paths say their server plainly: the hot path reads it without allocating.
        if shared.personality == crate::personality::Personality::Okta {
            let path = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| parts.uri.path(), |o| o.0.path());
            let id = server_id_of_path(shared, path);
            return match shared.server_ctx(id) {
                Some(srv) => Ok(Srv(srv)),
                None => Err(unknown_server(shared, parts, id, path)),
            };
        }
        let segment = axum::extract::RawPathParams::from_request_parts(parts, shared)
            .await
            .ok()
            .and_then(|ps| {
                ps.iter()
                    .find(|(k, _)| *k == "server")
                    .map(|(_, v)| v.to_string())
            });
        // A path without a server segment is for the default server.
        let found = match &segment {
            Some(seg) => shared.server_for_segment(seg),
            None => shared.server_ctx(shared.personality.default_server()),
        };
        match found {
            Some(srv) => Ok(Srv(srv)),
            None => {
                let segment =
                    segment.unwrap_or_else(|| shared.personality.default_server().to_string());
                let path = parts.uri.path().to_string();
                Err(unknown_server(shared, parts, &segment, &path))
            }
        }
    }
}

/// The answer for a server segment that names no server of the tenant (journaled).
fn unknown_server(shared: &Shared, parts: &Parts, segment: &str, path: &str) -> Response {
    let j = entry(
        shared,
        segment,
        endpoint_of_path(shared, path),
        &parts.method,
        &parts.headers,
    );
    finish(shared, j, Err(IdpError::unknown_server(segment)))
}

/// The endpoint a path names under the personality.
fn endpoint_of_path(shared: &Shared, path: &str) -> Option<Endpoint> {
    let p = shared.personality;
    if p != crate::personality::Personality::Okta {
        return p
            .routes()
            .iter()
            .find(|r| path_matches(r.path, path))
            .map(|r| r.endpoint);
    }
    if path.contains("/v1/keys/") {
        return Some(Endpoint::Keys);
    }
    Some(match path.rsplit('/').next()? {
        "openid-configuration" | "oauth-authorization-server" => Endpoint::Discovery,
        "keys" => Endpoint::Keys,
        "authorize" => Endpoint::Authorize,
        "token" => Endpoint::Token,
        "userinfo" => Endpoint::Userinfo,
        "introspect" => Endpoint::Introspect,
        "revoke" => Endpoint::Revoke,
        "logout" => Endpoint::Logout,
        _ => return None,
    })
}

/// Whether `path` matches a route template (`{server}` matches one segment).
fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a == b || *a == "{server}")
}

/// The server segment of a path the router did not match (for the journal).
pub fn server_id_of_path<'a>(shared: &Shared, path: &'a str) -> &'a str {
    if shared.personality != crate::personality::Personality::Okta {
        return shared.personality.default_server();
    }
    match path.strip_prefix("/oauth2/") {
        Some(rest) => match rest.split('/').next() {
            Some("v1") | None => "org",
            Some(id) => id,
        },
        None => "org",
    }
}

/// Parameters of a query string or form body, first value wins.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (never fails), as
    /// `form_urlencoded::parse` does: `&`-separated pairs, empty ones skipped, a name
    /// without `=` has the empty value, `+` is a space, `%XX` a byte, and bytes that are not
    /// UTF-8 become U+FFFD.
    pub fn parse(raw: &[u8]) -> Self {
        let pairs = raw.split(|b| *b == b'&').filter(|p| !p.is_empty());
        Self(
            pairs
                .map(|pair| {
                    let (name, value) = match pair.iter().position(|b| *b == b'=') {
                        Some(at) => (&pair[..at], &pair[at + 1..]),
                        None => (pair, &[][..]),
                    };
                    (form_text(name), form_text(value))
                })
                .collect(),
        )
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, if present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// One name or value of a form as text, bytes that are not UTF-8 as U+FFFD (as
/// `form_urlencoded` reads it).
fn form_text(raw: &[u8]) -> String {
    String::from_utf8(form_decode(raw))
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `application/x-www-form-urlencoded` decoding of one name or value, in one pass: `+` is
/// a space, `%XX` a byte, a `%` that starts no escape is kept (`form_urlencoded` makes a
/// copy for `+`, another for `%XX`, then checks UTF-8 chunk by chunk).
pub fn form_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    // Runs of plain bytes are copied whole; only `+` and `%` are looked at one by one.
    while let Some(at) = rest.iter().position(|b| matches!(b, b'+' | b'%')) {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        match (rest[0], hex(rest.get(1)), hex(rest.get(2))) {
            (b'+', _, _) => {
                out.push(b' ');
                rest = &rest[1..];
            }
            (_, Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                rest = &rest[3..];
            }
            _ => {
                out.push(b'%');
                rest = &rest[1..];
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

/// A journal entry started for this request.
pub fn entry(
    shared: &Shared,
    srv: &str,
    endpoint: impl Into<Option<Endpoint>>,
    method: &Method,
    headers: &HeaderMap,
) -> JournalEntry {
    JournalEntry {
        at: shared.clock.now(),
        server: srv.to_string(),
        endpoint: endpoint.into(),
        method: method.as_str().to_string(),
        origin: headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        ..JournalEntry::default()
    }
}

/// Records the entry with the response's status and outcome, and returns the response.
pub fn finish(
    shared: &Shared,
    mut j: JournalEntry,
    result: Result<Response, IdpError>,
) -> Response {
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            j.outcome = e.code().to_string();
            render_error(shared, &j, e)
        }
    };
    j.status = resp.status().as_u16();
    if j.outcome.is_empty() {
        j.outcome = "ok".into();
    }
    shared.journal.record(j);
    resp
}

/// An error as the personality delivers it.
pub fn render_error(shared: &Shared, j: &JournalEntry, e: IdpError) -> Response {
    let p = shared.personality;
    if p == crate::personality::Personality::Okta {
        return e.into_response();
    }
    let ctx = crate::personality::errors::ErrorContext {
        client_id: j.client_id.clone(),
        redirect_uri: None,
        segment: if p.is_alias(&j.server) || p.single_issuer() {
            p.segment("default")
        } else {
            p.segment(&j.server)
        },
        origins: shared.origins.clone(),
        now: shared.clock.now(),
    };
    crate::personality::errors::render(p, e, &ctx)
}

/// The origin to allow when the request's `Origin` is a trusted origin of some client, as
/// Okta does on its token, userinfo, keys, introspect and revoke endpoints; `None` when
/// it is not, or when a `cors-missing` fault fires for this request.
pub fn cors_origin(
    shared: &Shared,
    headers: &HeaderMap,
    ctx: &FaultCtx,
    j: &mut JournalEntry,
) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let trusted = shared.tenant().clients.iter().any(|c| {
        c.trusted_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin)
    });
    if !trusted || !shared.fire(Strikes::Cors, ctx, j).is_empty() {
        return None;
    }
    HeaderValue::from_str(origin).ok()
}

/// Adds the CORS headers for `allow`.
pub fn with_cors(mut resp: Response, allow: Option<HeaderValue>) -> Response {
    if let Some(v) = allow {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

async fn preflight(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    Srv(srv): Srv,
    uri: axum::extract::OriginalUri,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let mut j = entry(
        &shared,
        &srv.id,
        endpoint_of_path(&shared, uri.path()),
        &method,
        &headers,
    );
    let allow = cors_origin(&shared, &headers, &FaultCtx::default(), &mut j);
    let resp = finish(&shared, j, Ok(StatusCode::NO_CONTENT.into_response()));
    let mut resp = with_cors(resp, allow);
    if resp
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "Accept, Authorization, Content-Type, X-Okta-User-Agent-Extended, DPoP",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    resp
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::Params;

    /// Every way a form can be written, read as `form_urlencoded` reads it (the judge):
    /// plain pairs, `+` and `%XX`, a `%` not followed by two hex digits, encoded bytes that
    /// are not UTF-8, raw bytes that are not UTF-8, empty pairs and names, no `=`, a second
    /// `=`, a repeated name.
    #[test]
    fn forms_are_read_as_form_urlencoded_reads_them() {
        let forms: [&[u8]; 16] = [
            b"",
            b"a=b",
            b"grant_type=authorization_code&code=abc-_.~&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback",
            b"scope=openid+profile%20email&state=a%2Bb",
            b"x=%zz&y=%4&z=%",
            b"name=%C3%A9l%C3%A8ve&bad=%FF%FE",
            b"raw=\xff\xfeok&after=1",
            b"&&a=1&&",
            b"=v&k=",
            b"flag&other",
            b"a=b=c",
            b"a=1&a=2",
            b"+=+&%2B=%2b",
            "utf8=élève&ok".as_bytes(),
            b"mixed=%41%4a%4A%e9x",
            b"p=100%25+sure%2&q=%%41",
        ];
        for form in forms {
            let judge: Vec<(String, String)> =
                url::form_urlencoded::parse(form).into_owned().collect();
            assert_eq!(
                Params::parse(form).0,
                judge,
                "{}",
                String::from_utf8_lossy(form)
            );
        }
        assert_eq!(Params::parse(b"a=1&a=2").get("a"), Some("1"));
    }
}
