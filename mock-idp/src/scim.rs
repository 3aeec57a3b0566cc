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

use crate::faults::{FaultId, Strikes};
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
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Looks users up at the app by `userName` (`filter=userName eq "…"`), as Okta does
    /// before it creates one: the ids found, in `found`.
    Lookup {
        /// The `userName` to look for.
        user_name: String,
        /// The tenant user the look-up is about (its journal entry names them), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
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
    /// What a look-up found: the ids of the users with that `userName`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found: Vec<String>,
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
    /// The faults that changed the requests being sent (journaled on each).
    labels: Vec<String>,
    /// `scim-retry-after-timeout`, armed: the next 2xx answer is dropped, as if it never
    /// came, and the request is sent again.
    drop_answer: Option<String>,
}

impl<'a> Session<'a> {
    fn new(shared: &'a Shared, target: &'a ScimTarget) -> Result<Self, ScimError> {
        let http = crate::http_client::build(
            reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none()),
            None,
        )
        .map_err(|e| ScimError(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self {
            shared,
            target,
            http,
            requests: 0,
            labels: Vec::new(),
            drop_answer: None,
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
                faults: self.labels.clone(),
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
                Ok((status, _)) if (200..300).contains(status) && self.drop_answer.is_some() => {
                    // The app answered; the IdP acts as if the answer timed out, and the
                    // retry carries the fault so the journal shows what it tests.
                    let label = self.drop_answer.take().unwrap_or_default();
                    j.status = *status;
                    j.outcome = "answer_dropped".into();
                    j.faults.push(label.clone());
                    self.labels.push(label);
                    true
                }
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
        Err(refused(&self.target.url, method.as_str(), path, status, &v))
    }

    /// Replaces user `id` with `body`.
    async fn put_user(
        &mut self,
        id: &str,
        body: &Value,
        user_id: Option<&str>,
    ) -> Result<(), ScimError> {
        let mut body = body.clone();
        body["id"] = id.into();
        self.expect_ok(
            reqwest::Method::PUT,
            &format!("/Users/{id}"),
            Some(&body),
            user_id,
        )
        .await
        .map(drop)
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

/// The error of a request the app refused: the request, the status and the app's `detail`.
fn refused(url: &str, method: &str, path: &str, status: u16, answer: &Value) -> ScimError {
    let detail = answer
        .get("detail")
        .and_then(Value::as_str)
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    ScimError(format!("{method} {url}{path} answered {status}{detail}"))
}

/// The user as sent while the faults `labels` are armed for them: without `emails`
/// (`scim-email-omitted`), with the login's prefix as `userName` (`scim-username-short`).
fn shaped_resource(user: &User, labels: &[String]) -> Value {
    let mut u = user_resource(user);
    let has = |id: FaultId| labels.iter().any(|l| l == id.as_str());
    if has(FaultId::ScimEmailOmitted) {
        if let Some(o) = u.as_object_mut() {
            o.remove("emails");
        }
    }
    if has(FaultId::ScimUsernameShort) {
        let short = user.login.split('@').next().unwrap_or(&user.login);
        u["userName"] = short.into();
    }
    u
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
            let ctx = shared.fault_ctx(uid, None);
            let take = |id: FaultId| {
                shared
                    .faults
                    .take_where(Strikes::Provisioning, &ctx, |f| f == id)
                    .first()
                    .map(|f| f.label())
            };
            // The faults that change the user sent (and the name it is looked up by).
            let shape: Vec<String> = [FaultId::ScimEmailOmitted, FaultId::ScimUsernameShort]
                .into_iter()
                .filter_map(take)
                .collect();
            let body = shaped_resource(&user, &shape);
            let name = body["userName"].as_str().unwrap_or_default().to_string();
            // The look-up carries only what changed the name it looks up.
            s.labels = shape
                .iter()
                .filter(|l| *l != FaultId::ScimEmailOmitted.as_str())
                .cloned()
                .collect();
            let found = s.find("Users", "userName", &name, uid).await?;
            s.labels = shape;
            // A create the app must refuse as a duplicate: a user it has (a look-up that
            // missed), or the same create again after its answer was dropped.
            let duplicate = match &found {
                Some(_) => take(FaultId::ScimDuplicateCreate),
                None => {
                    s.drop_answer = take(FaultId::ScimRetryAfterTimeout);
                    None
                }
            };
            let id = match (found, duplicate) {
                (Some(id), None) => {
                    s.put_user(&id, &body, uid).await?;
                    id
                }
                (found, duplicate) => {
                    let plain = s.labels.clone();
                    s.labels.extend(duplicate.clone());
                    let (status, created) = s
                        .send(reqwest::Method::POST, "/Users", Some(&body), uid)
                        .await?;
                    let retried = s.labels.len() > plain.len();
                    s.labels = plain;
                    if status == 409 && (duplicate.is_some() || retried) {
                        // Refused as a duplicate, as it must be: the IdP finds the user and
                        // replaces them, as Okta does on a conflict.
                        let id = match found {
                            Some(id) => Some(id),
                            None => s.find("Users", "userName", &name, uid).await?,
                        }
                        .ok_or_else(|| {
                            ScimError(format!(
                                "POST {}/Users answered 409, and no user `{name}` is found there",
                                target.url
                            ))
                        })?;
                        s.put_user(&id, &body, uid).await?;
                        id
                    } else if (200..300).contains(&status) {
                        created["id"].as_str().map(str::to_string).ok_or_else(|| {
                            ScimError(format!("POST {}/Users answered without an id", target.url))
                        })?
                    } else {
                        return Err(refused(&target.url, "POST", "/Users", status, &created));
                    }
                }
            };
            out.id = Some(id);
        }
        ScimOp::Deprovision { user } => {
            let user = user_of(user)?;
            let uid = Some(user.id.as_str());
            let ctx = shared.fault_ctx(uid, None);
            // The name the user was provisioned under while the fault is armed.
            let shape: Vec<String> = shared
                .faults
                .take_where(Strikes::Provisioning, &ctx, |f| {
                    f == FaultId::ScimUsernameShort
                })
                .iter()
                .map(|f| f.label())
                .collect();
            let name = shaped_resource(&user, &shape)["userName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            s.labels = shape.clone();
            if let Some(id) = s.find("Users", "userName", &name, uid).await? {
                let path = format!("/Users/{id}");
                if target.patch {
                    let body = json!({
                        "schemas": [PATCH_SCHEMA],
                        "Operations": [{"op": "replace", "value": {"active": false}}],
                    });
                    s.expect_ok(reqwest::Method::PATCH, &path, Some(&body), uid)
                        .await?;
                } else {
                    let mut body = shaped_resource(&user, &shape);
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
        ScimOp::Lookup { user_name, user } => {
            let about = match user {
                Some(u) => Some(user_of(u)?.id),
                None => None,
            };
            let path = format!("/Users?{}", filter_query("userName", user_name));
            let list = s
                .expect_ok(reqwest::Method::GET, &path, None, about.as_deref())
                .await?;
            out.found = list["Resources"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x["id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
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
