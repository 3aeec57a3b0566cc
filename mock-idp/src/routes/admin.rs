//! The admin API under `/_harness/`: journal, tenant changes, key rotation, clock.
//! On a non-loopback address every call needs `Authorization: Bearer <admin token>`.
//! Wherever it listens, it answers only requests addressed to it (`Host` is its own
//! address or `localhost`, against DNS rebinding), refuses those a web page of another
//! origin makes (`Origin`), and takes writes only as `application/json` (which a page
//! cannot send cross-origin without the browser asking first; PUT and DELETE never can).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::control::ControlError;
use crate::errors::json_response;
use crate::state::Shared;
use crate::tenant::{Client, Tenant, User};

/// One call of the admin API: what it is, for the router and for the OpenAPI document
/// (`GET /_harness/openapi.json`, docs/admin-api.json), which are both built from
/// [`API`], so neither can list a call the other does not serve.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// `GET`, `PUT`, `POST` or `DELETE`.
    pub method: &'static str,
    /// Under `/_harness` (`{name}` for a path parameter).
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// A query parameter it takes: (name, meaning).
    pub query: Option<(&'static str, &'static str)>,
    /// An example JSON body, for the calls that take one.
    pub body: Option<&'static str>,
    /// What it answers.
    pub answer: &'static str,
}

const fn call(method: &'static str, path: &'static str, summary: &'static str) -> Call {
    Call {
        method,
        path,
        summary,
        query: None,
        body: None,
        answer: "204: done",
    }
}

/// Every call of the admin API.
pub const API: &[Call] = &[
    Call {
        query: Some(("since", "only the entries after this sequence number")),
        answer: "200: the journal, a JSON array of entries (streamed)",
        ..call(
            "GET",
            "/journal",
            "Read the journal: every request the IdP answered",
        )
    },
    call("DELETE", "/journal", "Clear the journal"),
    Call {
        answer: "200: the tenant as JSON (secrets redacted)",
        ..call("GET", "/tenant", "Read the tenant")
    },
    Call {
        body: Some(
            r#"{"org": "harness", "users": [], "clients": [], "authorization_servers": []}"#,
        ),
        answer: "204: replaced; 400 with the reason when the tenant is not valid",
        ..call(
            "PUT",
            "/tenant",
            "Replace the tenant (JSON of the tenant format)",
        )
    },
    Call {
        body: Some(r#"{"login": "carol@example.com", "password": "carol-password-1"}"#),
        answer: "204: added or replaced; 400 with the reason",
        ..call("PUT", "/users", "Add or replace a user")
    },
    Call {
        answer: "204: removed; 404 for an unknown user",
        ..call("DELETE", "/users/{user}", "Remove a user (by login)")
    },
    Call {
        body: Some(
            r#"{"client_id": "my-app", "client_secret": "s3cret", "redirect_uris": ["http://127.0.0.1:3000/cb"]}"#,
        ),
        answer: "204: added or replaced; 400 with the reason",
        ..call("PUT", "/clients", "Add or replace a client")
    },
    call("DELETE", "/clients/{client}", "Remove a client"),
    call(
        "PUT",
        "/clients/{client}/users/{user}",
        "Assign a user to a client",
    ),
    call(
        "DELETE",
        "/clients/{client}/users/{user}",
        "Unassign a user from a client",
    ),
    Call {
        body: Some(r#"{"server": "default", "keep_old": true}"#),
        answer: "200: {\"server\": …, \"active_kid\": …}; 404 for an unknown server",
        ..call("POST", "/keys/rotate", "Rotate a server's signing keys")
    },
    Call {
        answer: "200: {\"now\": Unix seconds, \"frozen\": bool}",
        ..call("GET", "/clock", "Read the clock")
    },
    Call {
        body: Some(r#"{"advance": 301}"#),
        answer: "200: {\"now\": …, \"frozen\": true}; 409 unless the IdP runs with a frozen clock",
        ..call(
            "POST",
            "/clock",
            "Move a frozen clock (`advance` seconds, or `set` a time)",
        )
    },
    Call {
        answer: "200: for the refresh tokens, access tokens' grants, codes, sessions, pending sign-ins, revoked ids and the journal: entries and bytes held, their limits, and how many each forgot to stay within them",
        ..call(
            "GET",
            "/memory",
            "What the IdP holds against its memory budgets",
        )
    },
    Call {
        answer: "200: every fault of the catalog, with where it strikes",
        ..call("GET", "/faults", "The fault catalog")
    },
    Call {
        body: Some(r#"{"id": "state-missing", "user": "alice@example.com", "times": 1}"#),
        answer: "201: {\"armed_id\": N}; 400 naming an unknown fault or field",
        ..call(
            "POST",
            "/faults",
            "Arm a fault (for a user, a client or everyone; n times or until disarmed)",
        )
    },
    Call {
        answer: "200: the armed faults, with how often each fired",
        ..call("GET", "/faults/armed", "The armed faults")
    },
    call("DELETE", "/faults/armed", "Disarm every fault"),
    call(
        "DELETE",
        "/faults/armed/{id}",
        "Disarm one fault (its armed_id)",
    ),
    Call {
        body: Some(
            r#"{"target": {"url": "http://127.0.0.1:8080/scim/v2", "authorization": "Bearer t"}, "op": "provision", "user": "alice@example.com"}"#,
        ),
        answer: "200: what it did; 502 with the request the app refused",
        ..call(
            "POST",
            "/scim",
            "Provision a user at an app's SCIM API, as Okta does",
        )
    },
    Call {
        answer: "200: this API as an OpenAPI 3.1 document",
        ..call("GET", "/openapi.json", "This document")
    },
];

/// The handler of `c` added to `r`.
fn serve(r: Route, c: &Call) -> Route {
    match (c.method, c.path) {
        ("GET", "/journal") => r.get(journal),
        ("DELETE", "/journal") => r.delete(clear_journal),
        ("GET", "/tenant") => r.get(tenant),
        ("PUT", "/tenant") => r.put(replace_tenant),
        ("PUT", "/users") => r.put(upsert_user),
        ("DELETE", "/users/{user}") => r.delete(remove_user),
        ("PUT", "/clients") => r.put(upsert_client),
        ("DELETE", "/clients/{client}") => r.delete(remove_client),
        ("PUT", "/clients/{client}/users/{user}") => r.put(assign),
        ("DELETE", "/clients/{client}/users/{user}") => r.delete(unassign),
        ("POST", "/keys/rotate") => r.post(rotate),
        ("GET", "/clock") => r.get(clock),
        ("GET", "/memory") => r.get(memory),
        ("POST", "/clock") => r.post(set_clock),
        ("GET", "/faults") => r.get(fault_catalog),
        ("POST", "/faults") => r.post(arm_fault),
        ("GET", "/faults/armed") => r.get(armed_faults),
        ("DELETE", "/faults/armed") => r.delete(disarm_all),
        ("DELETE", "/faults/armed/{id}") => r.delete(disarm_fault),
        ("POST", "/scim") => r.post(scim),
        ("GET", "/openapi.json") => r.get(openapi_json),
        // A call of API without a handler: the admin API tests start the IdP, and this
        // line is where they fail, naming the call.
        (m, p) => unreachable!("the admin API lists {m} {p} and serves nothing for it"),
    }
}

type Route = axum::routing::MethodRouter<Arc<Shared>>;

pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let mut router = Router::new();
    let mut paths: Vec<&str> = API.iter().map(|c| c.path).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let methods = API
            .iter()
            .filter(|c| c.path == path)
            .fold(Route::new(), serve);
        router = router.route(path, methods);
    }
    router.layer(middleware::from_fn_with_state(shared, guard))
}

/// Whether `host` (a `Host` header) names this IdP: its origin's host, or a loopback
/// name, with its port.
fn own_host(shared: &Shared, host: &str) -> bool {
    let Ok(origin) = url::Url::parse(&shared.origin) else {
        return false;
    };
    let port = origin.port_or_known_default().unwrap_or(0);
    let (name, given_port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(']') || host.starts_with('[') => (n, p.parse::<u16>().ok()),
        _ => (host, None),
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let port_ok = given_port.unwrap_or_else(|| origin.port_or_known_default().unwrap_or(0)) == port;
    let name_ok = origin.host_str().is_some_and(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .eq_ignore_ascii_case(name)
    }) || ["localhost", "127.0.0.1", "::1"].contains(&name);
    port_ok && name_ok
}

async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        if !own_host(&shared, host) {
            return admin_error(
                StatusCode::FORBIDDEN,
                &format!(
                    "the admin API answers requests for {} only (found Host `{host}`)",
                    shared.origin
                ),
            );
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        if origin.trim_end_matches('/') != shared.origin {
            return admin_error(
                StatusCode::FORBIDDEN,
                &format!(
                    "the admin API refuses requests from web pages of another origin (found `{origin}`)"
                ),
            );
        }
    }
    // A web page can send a POST (`text/plain`, a form) to another origin without the
    // browser asking first; PUT and DELETE it cannot (and preflights get no CORS here).
    let writes = req.method() == axum::http::Method::POST;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if writes && !json {
        return admin_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the admin API takes POST bodies as `Content-Type: application/json`",
        );
    }
    if let Some(token) = &shared.admin_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| crate::secret::Secret::new(token.clone()).matches(g)) {
            return admin_error(
                StatusCode::UNAUTHORIZED,
                "the admin API needs `Authorization: Bearer <admin token>` on a non-loopback address",
            );
        }
    }
    next.run(req).await
}

/// Parses a JSON body; a bad one gets 400 with serde's words (which name the field and
/// what was expected).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn admin_error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({"error": message}))
}

fn outcome(r: Result<(), ControlError>) -> Response {
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e @ ControlError::NotFound { .. }) => {
            admin_error(StatusCode::NOT_FOUND, &e.to_string())
        }
        Err(e) => admin_error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

/// The journal as one JSON array, streamed a chunk at a time (never one big copy).
async fn journal(State(s): State<Arc<Shared>>, Query(q): Query<Since>) -> Response {
    const CHUNK: usize = 500;
    let stream =
        futures_util::stream::unfold((s, Some(q.since), true), |(s, after, first)| async move {
            let after = after?;
            let entries = s.journal.chunk(after, CHUNK);
            let mut out = Vec::new();
            if first {
                out.push(b'[');
            }
            let next = entries.last().map(|e| e.seq);
            for (i, e) in entries.iter().enumerate() {
                if !(first && i == 0) {
                    out.push(b',');
                }
                if serde_json::to_writer(&mut out, e).is_err() {
                    return None;
                }
            }
            match next {
                Some(seq) if entries.len() == CHUNK => {
                    Some((Ok::<_, std::io::Error>(out), (s, Some(seq), false)))
                }
                _ => {
                    out.push(b']');
                    Some((Ok(out), (s, None, false)))
                }
            }
        });
    let mut resp = axum::body::Body::from_stream(stream).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn clear_journal(State(s): State<Arc<Shared>>) -> Response {
    s.journal.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn tenant(State(s): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &json!(*s.tenant()))
}

async fn replace_tenant(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let t: Tenant = match parse(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    outcome(s.replace_tenant(t))
}

async fn upsert_user(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let u: User = match parse(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    outcome(s.upsert_user(u))
}

async fn remove_user(State(s): State<Arc<Shared>>, Path(user): Path<String>) -> Response {
    outcome(s.remove_user(&user))
}

async fn upsert_client(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let c: Client = match parse(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    outcome(s.upsert_client(c))
}

async fn remove_client(State(s): State<Arc<Shared>>, Path(client): Path<String>) -> Response {
    outcome(s.remove_client(&client))
}

async fn assign(
    State(s): State<Arc<Shared>>,
    Path((client, user)): Path<(String, String)>,
) -> Response {
    outcome(s.set_assignment(&client, &user, true))
}

async fn unassign(
    State(s): State<Arc<Shared>>,
    Path((client, user)): Path<(String, String)>,
) -> Response {
    outcome(s.set_assignment(&client, &user, false))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotate {
    #[serde(default = "default_server")]
    server: String,
    #[serde(default = "keep")]
    keep_old: bool,
}

fn default_server() -> String {
    "default".into()
}

fn keep() -> bool {
    true
}

async fn rotate(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let r: Rotate = match parse(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    match s.rotate_keys(&r.server, r.keep_old) {
        Ok(kid) => json_response(
            StatusCode::OK,
            &json!({"server": r.server, "active_kid": kid}),
        ),
        Err(e) => outcome(Err(e)),
    }
}

async fn memory(State(s): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &s.memory())
}

async fn clock(State(s): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"now": s.clock.now(), "frozen": s.clock.is_frozen()}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    advance: Option<i64>,
    #[serde(default)]
    set: Option<i64>,
}

async fn set_clock(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let c: ClockChange = match parse(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    let ok = match (c.advance, c.set) {
        (Some(a), None) => s.clock.advance(a),
        (None, Some(t)) => s.clock.set(t),
        _ => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                "expected exactly one of `advance` or `set`",
            );
        }
    };
    if ok {
        json_response(
            StatusCode::OK,
            &json!({"now": s.clock.now(), "frozen": true}),
        )
    } else {
        admin_error(
            StatusCode::CONFLICT,
            "the clock is the system clock; start the IdP with a frozen clock to move it",
        )
    }
}

async fn fault_catalog() -> Response {
    json_response(StatusCode::OK, &json!(crate::faults::CATALOG))
}

async fn armed_faults(State(s): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &json!(s.faults.list()))
}

async fn arm_fault(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let f: crate::faults::Fault = match parse(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    match s.arm_fault(f, false) {
        Ok(id) => json_response(StatusCode::CREATED, &json!({"armed_id": id})),
        Err(e) => admin_error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn disarm_fault(State(s): State<Arc<Shared>>, Path(id): Path<u64>) -> Response {
    if s.faults.disarm(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        admin_error(StatusCode::NOT_FOUND, &format!("no armed fault {id}"))
    }
}

async fn disarm_all(State(s): State<Arc<Shared>>) -> Response {
    s.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// A provisioning request: the app's SCIM API and the operation.
#[derive(serde::Deserialize)]
struct ScimRequest {
    target: crate::scim::ScimTarget,
    #[serde(flatten)]
    op: crate::scim::ScimOp,
}

/// `POST /_harness/scim`: runs a provisioning operation against an app's SCIM API
/// (`{"target": {"url": …, "authorization": …}, "op": "provision", "user": …}`); 200
/// with what it did, 502 with the request the app refused or did not answer.
async fn scim(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: ScimRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, &e),
    };
    match crate::scim::run(&s, &req.target, &req.op).await {
        Ok(out) => json_response(
            StatusCode::OK,
            &serde_json::to_value(out).unwrap_or_default(),
        ),
        Err(e) => admin_error(StatusCode::BAD_GATEWAY, &e.0),
    }
}

async fn openapi_json() -> Response {
    axum::Json(openapi()).into_response()
}

/// The admin API as an OpenAPI 3.1 document, built from [`API`].
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for c in API {
        let mut op = json!({
            "summary": c.summary,
            "responses": { c.answer[..3].to_string(): { "description": c.answer } },
        });
        let mut params: Vec<Value> = c
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if let Some((name, meaning)) = c.query {
            params.push(json!({"name": name, "in": "query", "required": false, "description": meaning, "schema": {"type": "integer"}}));
        }
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(body) = c.body {
            let example: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
            });
        }
        let entry = paths
            .entry(c.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[c.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "oidc-harness mock IdP: admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Under /_harness on the IdP's address. Open to local programs on a loopback address; elsewhere every call needs the admin token (printed at start). Writes take only Content-Type: application/json; requests with another Host or a web page's Origin are refused. See docs/mock-idp.md.",
        },
        "servers": [{"url": "http://127.0.0.1:9000/_harness"}],
        "components": {"securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}}},
        "security": [{}, {"adminToken": []}],
        "paths": paths,
    })
}
