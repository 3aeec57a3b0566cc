//! Provisioning over SCIM 2.0 (RFC 7643, RFC 7644), as Okta's provisioning client does it:
//! a user is looked up by `filter=userName eq "…"`, created with `POST /Users` or replaced
//! with `PUT /Users/{id}`, deactivated with a `PATCH` of `active: false` (a `PUT`, for apps
//! without PATCH) and deleted only where the app wants it; a group is looked up by its
//! `displayName`, created with `POST /Groups`, and its members added and removed with one
//! `PATCH`. Okta's headers (`User-Agent: Okta SCIM Client 1.0.0`, `application/scim+json`);
//! a request answered 5xx or 429, or not answered, is tried again, three times in all.
//!
//! Every request is a journal entry of its own (endpoint `scim`): the method and path in
//! `detail`, the status the app answered, `ok` or why not in `outcome`, the user it was
//! about. The `Authorization` header is never journaled.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::journal::{Endpoint, JournalEntry};
use crate::secret::Secret;
use crate::state::Shared;
use crate::tenant::User;

/// The schema of a SCIM user (RFC 7643 8.7.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The schema of a SCIM group (RFC 7643 8.7.1).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The schema of a PATCH request (RFC 7644 3.5.2).
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const USER_AGENT: &str = "Okta SCIM Client 1.0.0";
const CONTENT_TYPE: &str = "application/scim+json; charset=utf-8";
/// Tries of one request, the first included.
const ATTEMPTS: u32 = 3;
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn yes() -> bool {
    true
}

fn default_retry_ms() -> u64 {
    1000
}

/// An app the IdP provisions: where its SCIM API is, and what it supports.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimTarget {
    /// The SCIM base URL, e.g. `https://app.example.com/scim/v2`.
    pub url: String,
    /// The `Authorization` header to send (`Bearer …`, `Basic …`).
    #[serde(default)]
    pub authorization: Option<Secret>,
    /// Whether the app supports PATCH (default true): without it, users are deactivated
    /// with a `PUT` of the whole user.
    #[serde(default = "yes")]
    pub patch: bool,
    /// Whether deprovisioning deletes the user after deactivating them (default false:
    /// Okta deactivates).
    #[serde(default)]
    pub delete: bool,
    /// Milliseconds before a request is tried again (default 1000; doubled each time).
    #[serde(default = "default_retry_ms")]
    pub retry_ms: u64,
}

impl ScimTarget {
    /// A target at `url` with Okta's defaults.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            authorization: None,
            patch: true,
            delete: false,
            retry_ms: default_retry_ms(),
        }
    }
}

/// One provisioning operation on the tenant's users and groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op")]
pub enum ScimOp {
    /// Creates the user at the app, or replaces them there when the app has them.
    Provision {
        /// The user's login (or id).
        user: String,
    },
    /// Deactivates the user at the app (and deletes them, where the target says so).
    Deprovision {
        /// The user's login (or id).
        user: String,
    },
    /// Pushes a group: creates it when the app lacks it, adds the tenant's members it
    /// lacks (those the app has as users) and removes the ones it has that the tenant
    /// does not.
    PushGroup {
        /// The group's name.
        group: String,
    },
}

/// What an operation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimOutcome {
    /// The resource's id at the app (the user's or the group's), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// How many requests were sent (retries included).
    pub requests: u32,
    /// Group members not pushed because the app does not have them as users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// Why an operation failed: the request and what the app answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError(pub String);

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScimError {}

/// The SCIM representation of `user` (RFC 7643 4.1), as Okta sends it; no password.
pub fn user_resource(user: &User) -> Value {
    let p = &user.profile;
    let mut u = serde_json::Map::new();
    u.insert("schemas".into(), json!([USER_SCHEMA]));
    u.insert("userName".into(), user.login.clone().into());
    let mut name = serde_json::Map::new();
    if let Some(g) = &p.given_name {
        name.insert("givenName".into(), g.clone().into());
    }
    if let Some(f) = &p.family_name {
        name.insert("familyName".into(), f.clone().into());
    }
    if !name.is_empty() {
        u.insert("name".into(), name.into());
    }
    if let Some(e) = &p.email {
        u.insert(
            "emails".into(),
            json!([{"primary": true, "value": e, "type": "work"}]),
        );
    }
    if let Some(d) = user.display_name() {
        u.insert("displayName".into(), d.into());
    }
    if let Some(l) = &p.locale {
        u.insert("locale".into(), l.clone().into());
    }
    u.insert("externalId".into(), user.id.clone().into());
    u.insert("active".into(), user.active.into());
    Value::Object(u)
}

/// A `filter` query for an attribute equal to a string (RFC 7644 3.4.2.2), with Okta's
/// paging (`startIndex=1&count=100`).
fn filter_query(attribute: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    let filter = format!("{attribute} eq \"{escaped}\"");
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    format!("filter={encoded}&startIndex=1&count=100")
}

/// One run of provisioning requests against a target.
struct Session<'a> {
    shared: &'a Shared,
    target: &'a ScimTarget,
    http: reqwest::Client,
    requests: u32,
}

impl<'a> Session<'a> {
    fn new(shared: &'a Shared, target: &'a ScimTarget) -> Result<Self, ScimError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ScimError(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self {
            shared,
            target,
            http,
            requests: 0,
        })
    }

    /// Sends one request (tried again on 5xx, 429 or no answer); the answer's status and
    /// JSON body (`Null` when empty). Each try is journaled.
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        user_id: Option<&str>,
    ) -> Result<(u16, Value), ScimError> {
        let url = format!("{}{path}", self.target.url);
        let mut delay = self.target.retry_ms;
        let mut attempt = 1;
        loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("accept", "application/scim+json")
                .header("user-agent", USER_AGENT);
            if let Some(a) = &self.target.authorization {
                req = req.header("authorization", a.expose());
            }
            if let Some(b) = body {
                req = req
                    .header("content-type", CONTENT_TYPE)
                    .body(serde_json::to_vec(b).unwrap_or_default());
            }
            self.requests += 1;
            let mut j = JournalEntry {
                at: self.shared.clock.now(),
                server: "org".into(),
                endpoint: Some(Endpoint::Scim),
                method: method.to_string(),
                user_id: user_id.map(str::to_string),
                detail: Some(format!("{method} {path}")),
                ..JournalEntry::default()
            };
            let answer = match req.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    Ok((status, text))
                }
                Err(e) => Err(e.to_string()),
            };
            let retry = match &answer {
                Ok((status, text)) => {
                    j.status = *status;
                    j.outcome = if (200..300).contains(status) {
                        "ok".into()
                    } else {
                        scim_outcome(*status, text)
                    };
                    *status >= 500 || *status == 429
                }
                Err(e) => {
                    j.outcome = "unreachable".into();
                    j.detail = Some(format!("{method} {path}: {e}"));
                    true
                }
            };
            self.shared.journal.record(j);
            if retry && attempt < ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
                continue;
            }
            return match answer {
                Ok((status, text)) => {
                    let v = if text.trim().is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_str(&text).unwrap_or(Value::String(text))
                    };
                    Ok((status, v))
                }
                Err(e) => Err(ScimError(format!(
                    "{method} {url}: no answer after {ATTEMPTS} tries: {e}"
                ))),
            };
        }
    }

    /// Like [`Self::send`], and an error unless the app answered 2xx.
    async fn expect_ok(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        user_id: Option<&str>,
    ) -> Result<Value, ScimError> {
        let (status, v) = self.send(method.clone(), path, body, user_id).await?;
        if (200..300).contains(&status) {
            return Ok(v);
        }
        let detail = v
            .get("detail")
            .and_then(Value::as_str)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        Err(ScimError(format!(
            "{method} {}{path} answered {status}{detail}",
            self.target.url
        )))
    }

    /// The id of the one resource a filter finds, if any.
    async fn find(
        &mut self,
        kind: &str,
        attribute: &str,
        value: &str,
        user_id: Option<&str>,
    ) -> Result<Option<String>, ScimError> {
        let path = format!("/{kind}?{}", filter_query(attribute, value));
        let list = self
            .expect_ok(reqwest::Method::GET, &path, None, user_id)
            .await?;
        Ok(list["Resources"]
            .as_array()
            .and_then(|r| r.first())
            .and_then(|r| r["id"].as_str())
            .map(str::to_string))
    }
}

/// Why an app refused, for the journal: `scim_409_uniqueness`, `scim_401`, …
fn scim_outcome(status: u16, body: &str) -> String {
    let scim_type = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["scimType"].as_str().map(str::to_string));
    match scim_type {
        Some(t) => format!("scim_{status}_{t}"),
        None => format!("scim_{status}"),
    }
}

/// Runs `op` against `target` for the tenant of `shared`.
pub async fn run(
    shared: &Shared,
    target: &ScimTarget,
    op: &ScimOp,
) -> Result<ScimOutcome, ScimError> {
    let mut s = Session::new(shared, target)?;
    let user_of = |login: &str| {
        shared
            .tenant()
            .user(login)
            .cloned()
            .ok_or_else(|| ScimError(format!("no user `{login}` in the tenant")))
    };
    let mut out = ScimOutcome::default();
    match op {
        ScimOp::Provision { user } => {
            let user = user_of(user)?;
            let uid = Some(user.id.as_str());
            let mut body = user_resource(&user);
            let id = match s.find("Users", "userName", &user.login, uid).await? {
                Some(id) => {
                    body["id"] = id.clone().into();
                    s.expect_ok(
                        reqwest::Method::PUT,
                        &format!("/Users/{id}"),
                        Some(&body),
                        uid,
                    )
                    .await?;
                    id
                }
                None => {
                    let created = s
                        .expect_ok(reqwest::Method::POST, "/Users", Some(&body), uid)
                        .await?;
                    created["id"].as_str().map(str::to_string).ok_or_else(|| {
                        ScimError(format!("POST {}/Users answered without an id", target.url))
                    })?
                }
            };
            out.id = Some(id);
        }
        ScimOp::Deprovision { user } => {
            let user = user_of(user)?;
            let uid = Some(user.id.as_str());
            if let Some(id) = s.find("Users", "userName", &user.login, uid).await? {
                let path = format!("/Users/{id}");
                if target.patch {
                    let body = json!({
                        "schemas": [PATCH_SCHEMA],
                        "Operations": [{"op": "replace", "value": {"active": false}}],
                    });
                    s.expect_ok(reqwest::Method::PATCH, &path, Some(&body), uid)
                        .await?;
                } else {
                    let mut body = user_resource(&user);
                    body["id"] = id.clone().into();
                    body["active"] = false.into();
                    s.expect_ok(reqwest::Method::PUT, &path, Some(&body), uid)
                        .await?;
                }
                if target.delete {
                    s.expect_ok(reqwest::Method::DELETE, &path, None, uid)
                        .await?;
                }
                out.id = Some(id);
            }
        }
        ScimOp::PushGroup { group } => {
            let id = match s.find("Groups", "displayName", group, None).await? {
                Some(id) => id,
                None => {
                    let body = json!({
                        "schemas": [GROUP_SCHEMA],
                        "displayName": group,
                        "members": [],
                    });
                    let created = s
                        .expect_ok(reqwest::Method::POST, "/Groups", Some(&body), None)
                        .await?;
                    created["id"].as_str().map(str::to_string).ok_or_else(|| {
                        ScimError(format!("POST {}/Groups answered without an id", target.url))
                    })?
                }
            };
            let path = format!("/Groups/{id}");
            let current = s.expect_ok(reqwest::Method::GET, &path, None, None).await?;
            let have: Vec<String> = current["members"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|x| x["value"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let members: Vec<User> = shared
                .tenant()
                .users
                .iter()
                .filter(|u| u.active && u.groups.iter().any(|g| g == group))
                .cloned()
                .collect();
            let mut want = Vec::new();
            for u in &members {
                match s.find("Users", "userName", &u.login, Some(&u.id)).await? {
                    Some(uid) => want.push((uid, u.login.clone())),
                    None => out.skipped.push(u.login.clone()),
                }
            }
            let mut ops = Vec::new();
            let add: Vec<Value> = want
                .iter()
                .filter(|(uid, _)| !have.contains(uid))
                .map(|(uid, login)| json!({"value": uid, "display": login}))
                .collect();
            if !add.is_empty() {
                ops.push(json!({"op": "add", "path": "members", "value": add}));
            }
            for old in have.iter().filter(|h| !want.iter().any(|(w, _)| w == *h)) {
                ops.push(json!({"op": "remove", "path": format!("members[value eq \"{old}\"]")}));
            }
            if !ops.is_empty() {
                let body = json!({"schemas": [PATCH_SCHEMA], "Operations": ops});
                s.expect_ok(reqwest::Method::PATCH, &path, Some(&body), None)
                    .await?;
            }
            out.id = Some(id);
        }
    }
    out.requests = s.requests;
    Ok(out)
}
