//! The IdP's run-time state: tenant, keys, grants in flight, sessions, and token minting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::clock::Clock;
use crate::expiring::Expiring;
use crate::footprint::Footprint;
use crate::ids::{jti, random_b64};
use crate::journal::Journal;
use crate::jwt::{self, Claims};
use crate::keys::{KeyRing, SigningKey};
use crate::tenant::{Client, Directory, Tenant, User};

/// Authorization code lifetime (Okta: 300 s).
pub const CODE_TTL: i64 = 300;
/// ID token lifetime (Okta default: 3600 s).
pub const ID_TOKEN_TTL: i64 = 3600;
/// Access token lifetime (Okta default: 3600 s).
pub const ACCESS_TOKEN_TTL: i64 = 3600;
/// How long the sign-in page's transaction stays valid.
pub const TRANSACTION_TTL: i64 = 3600;
/// IdP session lifetime.
pub const SESSION_TTL: i64 = 2 * 3600;

/// At most this many codes, sessions and pending sign-ins are kept at once (the soonest
/// to expire go first): a stranger cannot make the IdP grow without end.
pub const MAX_PENDING: usize = 10_000;
/// At most this many refresh tokens and revoked token ids are kept.
pub const MAX_TOKENS: usize = 50_000;

/// What the stores of issued things may hold, in bytes, beside their counts: with the
/// journal's budget, the IdP stays under 64 MiB after any traffic (`scripts/bench`
/// measures it after a million requests and after a hundred thousand logins that each
/// leave a refresh token behind). Each store has a share ([`StoreBudgets`]).
pub const DEFAULT_STORE_BYTES: usize = 24 * 1024 * 1024;

/// Each store's share of the stores' budget, in bytes. Refresh tokens never expire, so
/// they hold the largest share; codes and pending sign-ins live minutes; the access
/// tokens' claims are kept only under personalities whose tokens are not self-contained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreBudgets {
    pub refresh_tokens: usize,
    pub access_tokens: usize,
    pub codes: usize,
    pub sessions: usize,
    pub transactions: usize,
    pub revoked: usize,
}

impl StoreBudgets {
    /// `total` bytes shared out: refresh tokens 3/8, access tokens 1/4, codes, sessions
    /// and pending sign-ins 1/12 each, revoked token ids the rest (1/8).
    pub fn of(total: usize) -> Self {
        Self {
            refresh_tokens: total / 8 * 3,
            access_tokens: total / 4,
            codes: total / 12,
            sessions: total / 12,
            transactions: total / 12,
            revoked: total - total / 8 * 3 - total / 4 - 3 * (total / 12),
        }
    }
}

/// The OpenID scopes every authorization server knows.
pub const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// What one authorization server is, resolved from the tenant for one request.
#[derive(Clone, Debug)]
pub struct ServerCtx {
    /// `org` or the custom server id.
    pub id: String,
    /// Issuer URL.
    pub issuer: String,
    /// The path segment it was reached through: its id under Okta, Keycloak's realm,
    /// Entra's tenant id (or `common`), Cognito's user pool id…
    pub segment: String,
    /// Access token audience.
    pub audience: String,
    /// Scopes it grants.
    pub scopes: Vec<String>,
    /// Claim name for groups, when groups go into tokens.
    pub groups_claim: Option<String>,
}

impl ServerCtx {
    /// Whether this is the org authorization server.
    pub fn is_org(&self) -> bool {
        self.id == "org"
    }
}

/// An authorization code waiting to be redeemed.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub server: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
    /// Set once redeemed; a second redemption fails and revokes what the first issued.
    pub redeemed: bool,
    /// `jti`s and refresh tokens issued from it.
    pub issued: Vec<String>,
    /// The IdP session's `sid` (Back-Channel Logout 1.0 2.1), for the ID tokens.
    pub sid: Option<String>,
}

/// A refresh token's grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshGrant {
    pub server: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub auth_time: i64,
    /// The IdP session's `sid`, for the ID tokens of refreshes.
    pub sid: Option<String>,
}

/// A refresh token's grant as the IdP keeps it until the token is used: its texts in one
/// block (the scopes space-separated, as a scope cannot hold a space: RFC 6749 3.3), a
/// third of what the grant's six strings and vector cost. Refresh tokens never expire,
/// so the most of them the budget holds is what an RP can rely on.
#[derive(Debug)]
pub struct StoredRefresh {
    text: Box<str>,
    /// Where the server, client, user and scopes end in `text`; the sid is the rest.
    ends: [usize; 4],
    auth_time: i64,
    has_sid: bool,
}

impl StoredRefresh {
    pub fn new(g: &RefreshGrant) -> Self {
        let scopes = g.scopes.join(" ");
        let mut text = String::new();
        let mut ends = [0; 4];
        for (i, part) in [&g.server, &g.client_id, &g.user_id, &scopes]
            .into_iter()
            .enumerate()
        {
            text.push_str(part);
            ends[i] = text.len();
        }
        text.push_str(g.sid.as_deref().unwrap_or(""));
        Self {
            text: text.into_boxed_str(),
            ends,
            auth_time: g.auth_time,
            has_sid: g.sid.is_some(),
        }
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let end = self.ends.get(i).copied().unwrap_or(self.text.len());
        &self.text[start..end]
    }

    pub fn server(&self) -> &str {
        self.part(0)
    }

    pub fn client_id(&self) -> &str {
        self.part(1)
    }

    pub fn user_id(&self) -> &str {
        self.part(2)
    }

    /// The scopes, space-separated.
    pub fn scopes(&self) -> &str {
        self.part(3)
    }

    /// The grant, to issue from.
    pub fn grant(&self) -> RefreshGrant {
        RefreshGrant {
            server: self.server().to_string(),
            client_id: self.client_id().to_string(),
            user_id: self.user_id().to_string(),
            scopes: self
                .scopes()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            auth_time: self.auth_time,
            sid: self.has_sid.then(|| self.part(4).to_string()),
        }
    }
}

impl Footprint for StoredRefresh {
    fn heap_bytes(&self) -> usize {
        self.text.heap_bytes()
    }
}

impl Footprint for CodeGrant {
    fn heap_bytes(&self) -> usize {
        self.server.heap_bytes()
            + self.client_id.heap_bytes()
            + self.redirect_uri.heap_bytes()
            + self.user_id.heap_bytes()
            + self.scopes.heap_bytes()
            + self.nonce.heap_bytes()
            + self.code_challenge.heap_bytes()
            + self.issued.heap_bytes()
            + self.sid.heap_bytes()
    }
}

impl Footprint for Session {
    fn heap_bytes(&self) -> usize {
        self.user_id.heap_bytes() + self.sid.heap_bytes() + self.clients.heap_bytes()
    }
}

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
    /// Its public id, the `sid` claim (the cookie's value is the secret one).
    pub sid: String,
    /// The clients it signed in to, as (authorization server, client id), in order.
    pub clients: Vec<(String, String)>,
}

/// The state shared by every request.
pub struct Shared {
    pub tenant: RwLock<Tenant>,
    pub key_pool: Vec<Arc<SigningKey>>,
    /// The P-256 key of the ES256 faults (published only while one is armed).
    pub ec_key: Arc<crate::keys::EcKey>,
    /// The key of apps with their own signing key (read when first needed).
    pub app_key: std::sync::OnceLock<Arc<SigningKey>>,
    /// The last path segment of the keys while `jwks-uri-moved` is armed (random per IdP).
    pub moved_jwks: String,
    pub rings: RwLock<HashMap<String, KeyRing>>,
    pub clock: Clock,
    /// The origin of the IdP's main host (the issuer's).
    pub origin: String,
    /// Which IdP it is on the wire.
    pub personality: crate::personality::Personality,
    /// The origins of the personality's hosts (the first is `origin`).
    pub origins: Vec<String>,
    /// Every access token issued under a personality other than Okta (whose tokens say
    /// what they are in their `jti`): its id, and what it grants in Okta's terms (`uid`,
    /// `cid`, `scp`, `jti`, `exp`), which userinfo and introspection read. Kept as JSON
    /// text, one block (a fifth of the map's bytes), parsed when a token is presented.
    pub access_tokens: Mutex<Expiring<Box<str>>>,
    pub journal: Journal,
    pub codes: Mutex<Expiring<CodeGrant>>,
    pub refresh_tokens: Mutex<Expiring<StoredRefresh>>,
    pub sessions: Mutex<Expiring<Session>>,
    /// Pending sign-ins: expiry, the request, and the browser it was shown to.
    pub transactions: Mutex<Expiring<(i64, crate::routes::authorize::AuthzRequest, String)>>,
    pub revoked: Mutex<Expiring<()>>,
    /// The `jti` of the last logout token sent to each client about each user (for
    /// `logout-token-jti-replayed`).
    pub logout_jtis: Mutex<HashMap<String, String>>,
    pub faults: crate::faults::FaultSet,
    pub cookie_name: String,
    pub secure_cookies: bool,
    pub admin_token: Option<String>,
    /// Every code, token and secret issued or received, for redaction.
    pub known: crate::known::Known,
    /// What every request of a server needs, prepared once: its context, its discovery
    /// document and JWKS as bytes. Cleared when the tenant or the keys change.
    pub prepared: Prepared,
}

/// Per-server values prepared once (the hot paths serve bytes, no JSON work).
#[derive(Debug, Default)]
pub struct Prepared {
    servers: RwLock<FxHashMap<String, Arc<ServerCtx>>>,
    discovery: RwLock<FxHashMap<String, axum::body::Bytes>>,
    jwks: RwLock<FxHashMap<String, axum::body::Bytes>>,
    /// The tenant's clients and users by id (one entry, under `""`), made when first
    /// asked after a change.
    directory: RwLock<FxHashMap<String, Arc<Directory>>>,
    /// Bumped by every change that forgets something: what was made from the state
    /// before it is not kept (see [`Prepared::get_or_make`]).
    generation: std::sync::atomic::AtomicU64,
}

impl Prepared {
    /// The value of `key`, made by `make` (from the tenant and keys of now) and kept when
    /// it is not there yet. A value whose making overlapped a change is returned but not
    /// kept: made from the old state, it would outlive the change that forgot it.
    fn get_or_make<V: Clone>(
        &self,
        map: &RwLock<FxHashMap<String, V>>,
        key: &str,
        make: impl FnOnce() -> Option<V>,
    ) -> Option<V> {
        use std::sync::atomic::Ordering;
        if let Some(v) = map.read().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Some(v.clone());
        }
        let before = self.generation.load(Ordering::Acquire);
        let v = make()?;
        let mut m = map.write().unwrap_or_else(|p| p.into_inner());
        // A change bumps the generation before it clears (under this lock): either it is
        // seen here, or its clearing comes after this insert.
        if self.generation.load(Ordering::Acquire) == before {
            m.insert(key.to_string(), v.clone());
        }
        Some(v)
    }

    fn forget(&self, maps: &[&RwLock<FxHashMap<String, impl Sized>>]) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        for m in maps {
            m.write().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// Forgets everything (the tenant changed).
    pub fn clear(&self) {
        self.forget(&[&self.discovery, &self.jwks]);
        self.forget(&[&self.servers]);
        self.forget(&[&self.directory]);
    }

    /// Forgets the JWKS (the keys changed).
    pub fn keys_changed(&self) {
        self.forget(&[&self.jwks]);
    }
}

/// Locks a mutex, recovering from a panicked holder (state stays usable).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// A read guard on the tenant.
    pub fn tenant(&self) -> std::sync::RwLockReadGuard<'_, Tenant> {
        self.tenant.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the tenant with `f`: read, changed and written under one lock (two changes
    /// at once do not undo each other), kept only if `f` succeeds. What was derived from
    /// the tenant (its secrets for the redactor, the prepared servers and documents) is
    /// forgotten after the write, not before: a request served in between would derive
    /// it again from the old tenant and keep it.
    pub fn change_tenant<E>(&self, f: impl FnOnce(&Tenant) -> Result<Tenant, E>) -> Result<(), E> {
        let mut guard = self.tenant.write().unwrap_or_else(|p| p.into_inner());
        *guard = f(&guard)?;
        drop(guard);
        self.known.touch();
        self.prepared.clear();
        Ok(())
    }

    /// The tenant's clients and users by id, prepared once per tenant.
    pub fn directory(&self) -> Arc<Directory> {
        self.prepared
            .get_or_make(&self.prepared.directory, "", || {
                Some(Arc::new(Directory::of(&self.tenant())))
            })
            .expect("made above")
    }

    /// A client by id, shared (see [`Shared::directory`]).
    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.directory().client(client_id)
    }

    /// A user by login or id, shared (see [`Shared::directory`]).
    pub fn user(&self, login_or_id: &str) -> Option<Arc<User>> {
        self.directory().user(login_or_id)
    }

    /// Resolves `id` (`org` or a custom server id) against the tenant, prepared once.
    pub fn server_ctx(&self, id: &str) -> Option<Arc<ServerCtx>> {
        self.prepared
            .get_or_make(&self.prepared.servers, id, || self.server(id).map(Arc::new))
    }

    /// The server a path segment names under the personality (an Entra alias such as
    /// `common` names the default server), prepared once.
    pub fn server_for_segment(&self, segment: &str) -> Option<Arc<ServerCtx>> {
        let p = self.personality;
        if p == crate::personality::Personality::Okta {
            return self.server_ctx(segment);
        }
        let key = format!("segment {segment}");
        self.prepared.get_or_make(&self.prepared.servers, &key, || {
            let id = if p.is_alias(segment) {
                "default".to_string()
            } else {
                let tenant = self.tenant();
                std::iter::once("default")
                    .chain(tenant.authorization_servers.iter().map(|s| s.id.as_str()))
                    .find(|id| p.segment(id) == segment)?
                    .to_string()
            };
            let mut srv = self.server(&id)?;
            srv.segment = segment.to_string();
            Some(Arc::new(srv))
        })
    }

    /// The discovery document of `srv`, as bytes, prepared once.
    pub fn discovery_bytes(&self, srv: &ServerCtx) -> axum::body::Bytes {
        self.prepared
            .get_or_make(&self.prepared.discovery, &srv.segment, || {
                let doc = crate::routes::discovery::document(self, srv);
                Some(axum::body::Bytes::from(doc.to_string()))
            })
            .expect("made above")
    }

    /// The JWKS of `srv` as the personality publishes it.
    pub fn jwks(&self, srv: &ServerCtx, keys: Vec<Value>) -> Value {
        let issuer = if self.personality.is_alias(&srv.segment) {
            srv.issuer
                .replace(&self.personality.segment(&srv.id), "{tenantid}")
        } else {
            srv.issuer.clone()
        };
        // Keycloak's encryption key: a key of the pool no ring signs with.
        let enc = (self.personality == crate::personality::Personality::Keycloak)
            .then(|| self.key_pool.last().map(|k| k.jwk()))
            .flatten();
        self.personality.jwks(keys, &issuer, enc)
    }

    /// The JWKS of `srv`, as bytes, prepared once (until the keys change).
    pub fn jwks_bytes(&self, srv: &ServerCtx) -> axum::body::Bytes {
        self.prepared
            .get_or_make(&self.prepared.jwks, &srv.segment, || {
                let keys =
                    self.with_ring(&srv.id, |r| r.published().iter().map(|k| k.jwk()).collect());
                Some(axum::body::Bytes::from(self.jwks(srv, keys).to_string()))
            })
            .expect("made above")
    }

    /// The URL of an endpoint of `srv` under the personality.
    pub fn url(&self, srv: &ServerCtx, endpoint: crate::journal::Endpoint) -> Option<String> {
        let url = self.personality.url(&self.origins, &srv.id, endpoint)?;
        Some(if self.personality.is_alias(&srv.segment) {
            url.replace(&self.personality.segment(&srv.id), &srv.segment)
        } else {
            url
        })
    }

    /// Resolves `id` (`org` or a custom server id) against the tenant.
    pub fn server(&self, id: &str) -> Option<ServerCtx> {
        let p = self.personality;
        let mut scopes: Vec<String> = OIDC_SCOPES.iter().map(|s| s.to_string()).collect();
        if id == "org" && p == crate::personality::Personality::Okta {
            scopes.push("groups".into());
            return Some(ServerCtx {
                id: "org".into(),
                issuer: self.origin.clone(),
                segment: "org".into(),
                audience: self.origin.clone(),
                scopes,
                groups_claim: None,
            });
        }
        // One issuer per host: every name is the default server.
        let id = if p.single_issuer() { "default" } else { id };
        let tenant = self.tenant();
        let s = tenant.server(id)?;
        scopes.extend(s.scopes.iter().cloned());
        Some(ServerCtx {
            id: s.id.clone(),
            issuer: p.issuer(&self.origins, &s.id),
            segment: p.segment(&s.id),
            audience: s.audience(),
            scopes,
            groups_claim: s.groups_claim.clone(),
        })
    }

    fn ring_start(&self, server: &str) -> usize {
        if server == "org" {
            return 0;
        }
        let pos = self
            .tenant()
            .authorization_servers
            .iter()
            .position(|s| s.id == server)
            .unwrap_or(0);
        2 * (pos + 1)
    }

    /// Runs `f` on the key ring of `server`, creating it on first use.
    pub fn with_ring<R>(&self, server: &str, f: impl FnOnce(&mut KeyRing) -> R) -> R {
        let start = self.ring_start(server);
        let mut rings = self.rings.write().unwrap_or_else(|p| p.into_inner());
        let ring = rings
            .entry(server.to_string())
            .or_insert_with(|| KeyRing::new(self.key_pool.clone(), start));
        f(ring)
    }

    /// The key of apps with a signing key of their own (`fixtures/keys/key7.pem`).
    pub fn app_key(&self) -> Arc<SigningKey> {
        self.app_key
            .get_or_init(|| crate::keys::app_signing_key(self.personality))
            .clone()
    }

    /// The key an ID token for `client_id` is signed with at `server`: the app's own
    /// when it has one (Entra's custom signing key), else the server's active key.
    pub fn id_token_key(&self, server: &str, client_id: &str) -> Arc<SigningKey> {
        let own = self
            .tenant()
            .client(client_id)
            .is_some_and(|c| c.app_signing_key);
        if own {
            self.app_key()
        } else {
            self.signing_key(server)
        }
    }

    /// The key that signs for `server` now.
    pub fn signing_key(&self, server: &str) -> Arc<SigningKey> {
        {
            let rings = self.rings.read().unwrap_or_else(|p| p.into_inner());
            if let Some(ring) = rings.get(server) {
                return ring.active().clone();
            }
        }
        self.with_ring(server, |r| r.active().clone())
    }

    /// The published key of `server` with this `kid` (an app's own key included, once
    /// it signed: the IdP takes back the ID tokens it issued, as hints).
    pub fn published_key(&self, server: &str, kid: &str) -> Option<Arc<SigningKey>> {
        self.with_ring(server, |r| r.find(kid).cloned())
            .or_else(|| self.app_key.get().filter(|k| k.kid() == kid).cloned())
    }

    /// How long `client_id`'s access tokens live: the client's lifetime, else Okta's hour.
    pub fn access_token_ttl(&self, client_id: &str) -> i64 {
        self.tenant()
            .client(client_id)
            .and_then(|c| c.access_token_lifetime_secs)
            .map_or(self.personality.token_ttl(), i64::from)
    }

    /// Mints an access token (claims in Okta's order: ver, jti, iss, aud, iat, exp, cid,
    /// uid, scp, auth_time, sub). Returns the token, its `jti` and its lifetime.
    pub fn mint_access_token(
        &self,
        srv: &ServerCtx,
        client_id: &str,
        user: Option<&User>,
        scopes: &[String],
        auth_time: Option<i64>,
        sid: Option<&str>,
    ) -> (String, String, i64) {
        let now = self.clock.now();
        let ttl = self.access_token_ttl(client_id);
        if self.personality != crate::personality::Personality::Okta {
            return self
                .mint_personality_access_token(srv, client_id, user, scopes, auth_time, sid, ttl);
        }
        let id = jti("AT");
        let sub = user.map_or(client_id, |u| u.login.as_str());
        let mut c = okta_access_claims(srv, &id, client_id, user, scopes, auth_time, sub, now, ttl);
        if let (Some(u), Some(claim)) = (user, &srv.groups_claim) {
            c.insert(claim.clone(), Value::from(groups_of(u)));
        }
        let key = self.signing_key(&srv.id);
        let token = jwt::sign_rs256(&jwt::rs256_header(&key), &c, &key);
        self.known.remember("access_token", &token);
        (token, id, ttl)
    }

    #[allow(clippy::too_many_arguments)]
    fn facts<'a>(
        &'a self,
        srv: &'a ServerCtx,
        segment: &'a str,
        client_id: &'a str,
        user: Option<&'a User>,
        scopes: &'a [String],
        auth_time: Option<i64>,
        ttl: i64,
    ) -> crate::personality::claims::TokenFacts<'a> {
        crate::personality::claims::TokenFacts {
            issuer: &srv.issuer,
            // The server's own segment (Entra's tenant id, also through `common`).
            segment,
            server: &srv.id,
            audience: &srv.audience,
            client_id,
            user,
            scopes,
            nonce: None,
            auth_time,
            at_hash: None,
            c_hash: None,
            sid: None,
            groups_claim: srv.groups_claim.as_deref(),
            origins: &self.origins,
            now: self.clock.now(),
            ttl,
        }
    }

    /// An access token in the personality's shape (opaque for Google), remembered so
    /// that userinfo and introspection know it.
    #[allow(clippy::too_many_arguments)]
    fn mint_personality_access_token(
        &self,
        srv: &ServerCtx,
        client_id: &str,
        user: Option<&User>,
        scopes: &[String],
        auth_time: Option<i64>,
        sid: Option<&str>,
        ttl: i64,
    ) -> (String, String, i64) {
        let p = self.personality;
        let segment = p.segment(&srv.id);
        let mut facts = self.facts(srv, &segment, client_id, user, scopes, auth_time, ttl);
        facts.sid = sid;
        let claims = crate::personality::claims::access_token(p, &facts);
        let now = self.clock.now();
        let (token, id) = if p == crate::personality::Personality::Google {
            let token = format!("ya29.{}", random_b64(120));
            (token.clone(), token)
        } else {
            let key = self.signing_key(&srv.id);
            let token = if crate::personality::claims::entra_graph_token(p, scopes) {
                // Graph's access tokens: v1.0 headers (`x5t`) with a `nonce`, signed so
                // that only Graph verifies them.
                let mut h = Claims::new();
                h.insert("typ".into(), "JWT".into());
                h.insert("nonce".into(), random_b64(32).into());
                h.insert("alg".into(), "RS256".into());
                if let Some(x5t) = key.x5t() {
                    h.insert("x5t".into(), x5t.into());
                }
                h.insert("kid".into(), key.kid().into());
                jwt::sign_rs256_nonce_hashed(&h, &claims, &key)
            } else {
                jwt::sign_rs256(&jwt::rs256_header(&key), &claims, &key)
            };
            let id = token_id(&token, &claims);
            (token, id)
        };
        // What it grants, in Okta's terms (what userinfo and introspection read).
        let sub = facts_subject(p, user, client_id);
        let grants =
            okta_access_claims(srv, &id, client_id, user, scopes, auth_time, &sub, now, ttl);
        let grants = Value::Object(grants).to_string().into_boxed_str();
        lock(&self.access_tokens).insert(id.as_str(), now + ttl, grants);
        self.known.remember("access_token", &token);
        (token, id, ttl)
    }

    /// The claims of an ID token, in Okta's order. `thin` when an access token is issued
    /// beside it (Okta then puts only `name`, `email`, `preferred_username` of the profile
    /// in; the rest is at /userinfo).
    #[allow(clippy::too_many_arguments)]
    pub fn id_token_claims(
        &self,
        srv: &ServerCtx,
        client_id: &str,
        user: &User,
        scopes: &[String],
        nonce: Option<&str>,
        auth_time: i64,
        thin: bool,
        access_token: Option<&str>,
        code: Option<&str>,
        sid: Option<&str>,
    ) -> Claims {
        let p = self.personality;
        if p != crate::personality::Personality::Okta {
            let at = access_token.map(jwt::half_hash);
            let ch = code.map(jwt::half_hash);
            let segment = p.segment(&srv.id);
            let mut f = self.facts(
                srv,
                &segment,
                client_id,
                Some(user),
                scopes,
                Some(auth_time),
                p.token_ttl(),
            );
            f.nonce = nonce;
            f.at_hash = at.as_deref();
            f.c_hash = ch.as_deref();
            f.sid = sid;
            let mut c = crate::personality::claims::id_token(p, &f);
            self.add_custom_claims(client_id, user, &mut c);
            return c;
        }
        let now = self.clock.now();
        let has = |s: &str| scopes.iter().any(|x| x == s);
        let p = &user.profile;
        let mut c = Claims::new();
        let put = |c: &mut Claims, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                c.insert(k.into(), v.clone().into());
            }
        };
        // OIDC Core 2: sub is the user's locally unique identifier (Okta: the user id).
        c.insert("sub".into(), user.id.clone().into());
        if has("profile") {
            put(&mut c, "name", &user.display_name());
            if !thin {
                put(&mut c, "nickname", &p.nickname);
                put(&mut c, "picture", &p.picture);
                put(&mut c, "given_name", &p.given_name);
                put(&mut c, "middle_name", &p.middle_name);
                put(&mut c, "family_name", &p.family_name);
                put(&mut c, "locale", &p.locale);
                put(&mut c, "zoneinfo", &p.zoneinfo);
                if let Some(t) = p.updated_at {
                    c.insert("updated_at".into(), t.into());
                }
            }
        }
        if has("email") {
            put(&mut c, "email", &p.email);
            if !thin {
                c.insert("email_verified".into(), p.email_verified.into());
            }
        }
        if has("phone") && !thin {
            put(&mut c, "phone_number", &p.phone_number);
        }
        c.insert("ver".into(), 1.into());
        c.insert("iss".into(), srv.issuer.clone().into());
        c.insert("aud".into(), client_id.into());
        c.insert("iat".into(), now.into());
        c.insert("exp".into(), (now + ID_TOKEN_TTL).into());
        c.insert("jti".into(), jti("ID").into());
        c.insert("amr".into(), Value::from(vec!["pwd"]));
        c.insert("idp".into(), self.tenant().org.id.clone().into());
        if let Some(n) = nonce {
            c.insert("nonce".into(), n.into());
        }
        if has("profile") {
            c.insert("preferred_username".into(), user.login.clone().into());
        }
        c.insert("auth_time".into(), auth_time.into());
        // OIDC Core 3.3.2.11: at_hash and c_hash are the left half of the SHA-256 of the
        // ASCII octets of the token or code, base64url-encoded.
        if let Some(at) = access_token {
            c.insert("at_hash".into(), jwt::half_hash(at).into());
        }
        if let Some(code) = code {
            c.insert("c_hash".into(), jwt::half_hash(code).into());
        }
        let groups_claim = srv
            .groups_claim
            .clone()
            .or_else(|| (srv.is_org() && has("groups")).then(|| "groups".to_string()));
        if let Some(claim) = groups_claim {
            c.insert(claim, Value::from(groups_of(user)));
        }
        if let Some(sid) = sid {
            c.insert("sid".into(), sid.into());
        }
        self.add_custom_claims(client_id, user, &mut c);
        c
    }

    /// Adds what the tenant's admin added for this user and app: the user's custom
    /// claims, the app's, then the app's claims under another name (copied from the
    /// answer's own claims). Standard claims already there are not replaced.
    pub fn add_custom_claims(
        &self,
        client_id: &str,
        user: &User,
        c: &mut serde_json::Map<String, Value>,
    ) {
        let tenant = self.tenant();
        let client = tenant.client(client_id);
        let custom = user
            .claims
            .iter()
            .chain(client.into_iter().flat_map(|cl| cl.claims.iter()));
        for (k, v) in custom {
            c.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (name, from) in client.into_iter().flat_map(|cl| cl.claim_names.iter()) {
            if let Some(v) = c.get(from).cloned() {
                c.entry(name.clone()).or_insert(v);
            }
        }
    }

    /// Signs claims with the server's active key.
    pub fn sign(&self, srv: &ServerCtx, claims: &Claims) -> String {
        let key = self.signing_key(&srv.id);
        jwt::sign_rs256(&jwt::rs256_header(&key), claims, &key)
    }

    /// A new opaque refresh token.
    pub fn issue_refresh_token(&self, grant: &RefreshGrant) -> String {
        let token = random_b64(32);
        self.known.remember("refresh_token", &token);
        lock(&self.refresh_tokens).insert(token.as_str(), i64::MAX, StoredRefresh::new(grant));
        token
    }

    /// Verifies an access token this IdP issued for `srv`: signature by a published key,
    /// issuer, expiry, not revoked. Returns its claims.
    pub fn verify_access_token(&self, srv: &ServerCtx, token: &str) -> Option<Claims> {
        if self.personality != crate::personality::Personality::Okta {
            return self.verify_personality_access_token(srv, token);
        }
        let (header, _) = jwt::decode_unverified(token)?;
        let kid = header.get("kid")?.as_str()?;
        let key = self.published_key(&srv.id, kid)?;
        let claims = jwt::verify_rs256(token, &key)?;
        let ok = claims.get("iss").and_then(Value::as_str) == Some(srv.issuer.as_str())
            && claims
                .get("exp")
                .and_then(Value::as_i64)
                .is_some_and(|e| e > self.clock.now())
            && claims
                .get("jti")
                .and_then(Value::as_str)
                .is_some_and(|j| j.starts_with("AT.") && !lock(&self.revoked).contains_key(j));
        ok.then_some(claims)
    }

    fn verify_personality_access_token(&self, srv: &ServerCtx, token: &str) -> Option<Claims> {
        let now = self.clock.now();
        let id = self.personality_token_id(srv, token)?;
        let grants: Claims = serde_json::from_str(lock(&self.access_tokens).get(&id)?).ok()?;
        let ok = grants.get("iss").and_then(Value::as_str) == Some(srv.issuer.as_str())
            && !lock(&self.revoked).contains_key(&id)
            && grants
                .get("exp")
                .and_then(Value::as_i64)
                .is_some_and(|e| e > now);
        ok.then_some(grants)
    }

    /// The id under which an access token of a personality other than Okta's is kept, once
    /// its signature is one of `srv`'s published keys' (Google's opaque tokens are their id).
    fn personality_token_id(&self, srv: &ServerCtx, token: &str) -> Option<String> {
        if token.starts_with("ya29.") {
            return Some(token.to_string());
        }
        let (header, _) = jwt::decode_unverified(token)?;
        let kid = header.get("kid")?.as_str()?;
        let key = self.published_key(&srv.id, kid)?;
        let claims = if header.contains_key("nonce") {
            jwt::verify_rs256_nonce_hashed(token, &key)?
        } else {
            jwt::verify_rs256(token, &key)?
        };
        Some(token_id(token, &claims))
    }

    /// Why an access token the IdP signed is not one it holds, when that is because it
    /// forgot the token to stay within its memory (under personalities whose tokens'
    /// grants it keeps): for the journal, so that the refusal does not pass for the RP's
    /// mistake.
    pub fn forgotten_access_token(&self, srv: &ServerCtx, token: &str) -> Option<String> {
        if self.personality == crate::personality::Personality::Okta {
            return None;
        }
        let forgetting =
            lock(&self.access_tokens).forgetting("access tokens that would expire first")?;
        let id = self.personality_token_id(srv, token)?;
        (!lock(&self.access_tokens).contains_key(&id))
            .then(|| format!("an access token the IdP signed but no longer holds: {forgetting}"))
    }

    /// What each store of issued things and the journal hold against their limits, and
    /// how many entries each forgot to stay within them (`GET /_harness/memory`).
    pub fn memory(&self) -> Value {
        fn store<V: Footprint>(m: &Mutex<Expiring<V>>) -> Value {
            let m = lock(m);
            let (cap, budget) = m.limits();
            serde_json::json!({"entries": m.len(), "bytes": m.bytes(), "max_entries": cap,
                "max_bytes": budget, "forgotten": m.dropped()})
        }
        let (entries, bytes, cap, budget) = self.journal.usage();
        serde_json::json!({
            "refresh_tokens": store(&self.refresh_tokens),
            "access_tokens": store(&self.access_tokens),
            "codes": store(&self.codes),
            "sessions": store(&self.sessions),
            "pending_sign_ins": store(&self.transactions),
            "revoked": store(&self.revoked),
            "journal": {"entries": entries, "bytes": bytes, "max_entries": cap, "max_bytes": budget},
        })
    }

    /// The `sub` the personality gives user `user_id` in tokens for `client_id`.
    pub fn subject_of(&self, user_id: &str, client_id: &str) -> String {
        if self.personality == crate::personality::Personality::Okta {
            return user_id.to_string();
        }
        match self.tenant().user(user_id) {
            Some(u) => crate::personality::claims::subject(self.personality, u, client_id),
            None => user_id.to_string(),
        }
    }

    /// The user a `sub` of a token for `client_id` names (the inverse of
    /// [`Self::subject_of`]).
    pub fn user_of_subject(&self, sub: &str, client_id: &str) -> Option<String> {
        if self.personality == crate::personality::Personality::Okta {
            return Some(sub.to_string());
        }
        self.tenant()
            .users
            .iter()
            .find(|u| crate::personality::claims::subject(self.personality, u, client_id) == sub)
            .map(|u| u.id.clone())
    }

    /// Drops expired codes, sessions, sign-in transactions, access tokens' grants and
    /// revoked ids (through their expiry index: only what expired is touched).
    pub fn prune(&self) {
        let now = self.clock.now();
        lock(&self.codes).prune(now);
        lock(&self.sessions).prune(now);
        lock(&self.transactions).prune(now);
        lock(&self.access_tokens).prune(now);
        lock(&self.revoked).prune(now);
    }
}

/// The id of a token: its `jti` or `uti`, else (Auth0's tokens have neither) the
/// start of its signature.
pub fn token_id(token: &str, claims: &Claims) -> String {
    ["jti", "uti"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let sig = token.rsplit('.').next().unwrap_or(token);
            format!("sig.{}", &sig[..sig.len().min(43)])
        })
}

/// An access token's claims as Okta writes them (ver, jti, iss, aud, iat, exp, cid, uid,
/// scp, auth_time, sub).
#[allow(clippy::too_many_arguments)]
fn okta_access_claims(
    srv: &ServerCtx,
    id: &str,
    client_id: &str,
    user: Option<&User>,
    scopes: &[String],
    auth_time: Option<i64>,
    sub: &str,
    now: i64,
    ttl: i64,
) -> Claims {
    let mut c = Claims::new();
    c.insert("ver".into(), 1.into());
    c.insert("jti".into(), id.into());
    c.insert("iss".into(), srv.issuer.clone().into());
    c.insert("aud".into(), srv.audience.clone().into());
    c.insert("iat".into(), now.into());
    c.insert("exp".into(), (now + ttl).into());
    c.insert("cid".into(), client_id.into());
    if let Some(u) = user {
        c.insert("uid".into(), u.id.clone().into());
    }
    c.insert("scp".into(), Value::from(scopes.to_vec()));
    if let Some(t) = auth_time {
        c.insert("auth_time".into(), t.into());
    }
    c.insert("sub".into(), sub.into());
    c
}

fn facts_subject(
    p: crate::personality::Personality,
    user: Option<&User>,
    client_id: &str,
) -> String {
    user.map_or_else(
        || client_id.to_string(),
        |u| crate::personality::claims::subject(p, u, client_id),
    )
}

/// The user's groups, `Everyone` first, as Okta lists them.
pub fn groups_of(user: &User) -> Vec<String> {
    let mut g = vec!["Everyone".to_string()];
    g.extend(user.groups.iter().filter(|x| *x != "Everyone").cloned());
    g
}

#[cfg(test)]
mod prepared_tests {
    use super::Prepared;
    use axum::body::Bytes;

    #[test]
    fn a_value_made_across_a_change_is_returned_but_not_kept() {
        let p = Prepared::default();
        // The tenant changes while the document is being made from the old one.
        let old = p.get_or_make(&p.discovery, "default", || {
            p.clear();
            Some(Bytes::from("from the old tenant"))
        });
        assert_eq!(old.as_deref(), Some(&b"from the old tenant"[..]));
        let new = p.get_or_make(&p.discovery, "default", || Some(Bytes::from("new")));
        assert_eq!(
            new.as_deref(),
            Some(&b"new"[..]),
            "made again, not the old one"
        );
        let kept = p.get_or_make(&p.discovery, "default", || panic!("made a third time"));
        assert_eq!(kept.as_deref(), Some(&b"new"[..]));
        // A key change forgets the JWKS the same way, and only it.
        p.get_or_make(&p.jwks, "default", || {
            p.keys_changed();
            Some(Bytes::from("old keys"))
        });
        let jwks = p.get_or_make(&p.jwks, "default", || Some(Bytes::from("new keys")));
        assert_eq!(jwks.as_deref(), Some(&b"new keys"[..]));
        let kept = p.get_or_make(&p.discovery, "default", || panic!("discovery was kept"));
        assert_eq!(kept.as_deref(), Some(&b"new"[..]));
    }
}

#[cfg(test)]
mod store_tests {
    use super::{RefreshGrant, StoreBudgets, StoredRefresh};
    use crate::footprint::Footprint;

    #[test]
    fn a_stored_refresh_grant_gives_back_the_grant_it_was_made_of() {
        let grant = RefreshGrant {
            server: "default".into(),
            client_id: "0oa1harnessweb00000".into(),
            user_id: "00u1alice000000000000".into(),
            scopes: vec!["openid".into(), "email".into(), "offline_access".into()],
            auth_time: 1_700_000_000,
            sid: Some("sid-123".into()),
        };
        let stored = StoredRefresh::new(&grant);
        assert_eq!(stored.grant(), grant);
        assert_eq!(
            (stored.server(), stored.client_id(), stored.user_id()),
            ("default", "0oa1harnessweb00000", "00u1alice000000000000")
        );
        assert_eq!(stored.scopes(), "openid email offline_access");
        let bare = RefreshGrant {
            scopes: Vec::new(),
            sid: None,
            server: String::new(),
            ..grant.clone()
        };
        assert_eq!(
            StoredRefresh::new(&bare).grant(),
            bare,
            "empty parts and no sid"
        );
        let empty_sid = RefreshGrant {
            sid: Some(String::new()),
            ..grant.clone()
        };
        assert_eq!(StoredRefresh::new(&empty_sid).grant(), empty_sid);
        let unpacked = grant.server.heap_bytes()
            + grant.client_id.heap_bytes()
            + grant.user_id.heap_bytes()
            + grant.scopes.heap_bytes()
            + grant.sid.heap_bytes();
        assert!(
            stored.heap_bytes() * 2 < unpacked,
            "one block: {} bytes against {unpacked}",
            stored.heap_bytes()
        );
    }

    /// The number the README and `--help` give: about 21,000 refresh tokens at the default.
    #[test]
    fn the_default_budget_keeps_about_21000_refresh_tokens_of_a_fixture_login() {
        let budget = StoreBudgets::of(super::DEFAULT_STORE_BYTES).refresh_tokens;
        let mut store = crate::expiring::Expiring::new(super::MAX_TOKENS, budget);
        let grant = RefreshGrant {
            server: "default".into(),
            client_id: "0oa1harnessweb00000".into(),
            user_id: "00u1alice000000000000".into(),
            scopes: ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec(),
            auth_time: 1_700_000_000,
            sid: Some(crate::ids::random_b64(16)),
        };
        let mut n = 0;
        while store.dropped() == 0 && n < 100_000 {
            store.insert(
                crate::ids::random_b64(32),
                i64::MAX,
                StoredRefresh::new(&grant),
            );
            n += 1;
        }
        let kept = store.len();
        assert!((20_000..=22_000).contains(&kept), "{kept} kept");
    }

    /// Under personalities whose access tokens are not self-contained, each token's grant
    /// is kept for userinfo and introspection: about 11,000 at the default budget (as a map
    /// instead of its JSON text, about 2,300).
    #[test]
    fn the_default_budget_keeps_about_11000_access_grants_of_a_login() {
        let srv = super::ServerCtx {
            id: "default".into(),
            issuer: "http://127.0.0.1:9000/".into(),
            segment: "default".into(),
            audience: "api://default".into(),
            scopes: Vec::new(),
            groups_claim: None,
        };
        let user = crate::tenant::Tenant::fixture().users[0].clone();
        let scopes = ["openid", "profile", "email", "offline_access"].map(String::from);
        let budget = StoreBudgets::of(super::DEFAULT_STORE_BYTES).access_tokens;
        let mut store = crate::expiring::Expiring::new(super::MAX_TOKENS, budget);
        let mut n = 0;
        while store.dropped() == 0 && n < 100_000 {
            let id = crate::ids::random_b64(32);
            let grants = super::okta_access_claims(
                &srv,
                &id,
                "0oa1harnessweb00000",
                Some(&user),
                &scopes,
                Some(1_700_000_000),
                "auth0|00u1alice000000000000",
                1_700_000_000,
                86_400,
            );
            let text = serde_json::Value::Object(grants)
                .to_string()
                .into_boxed_str();
            store.insert(id, 1_700_086_400 + n, text);
            n += 1;
        }
        let kept = store.len();
        assert!((10_000..=12_000).contains(&kept), "{kept} kept");
    }

    #[test]
    fn the_shares_add_up_to_the_budget() {
        for total in [0, 1, 1000, 24 * 1024 * 1024, 24 * 1024 * 1024 + 7] {
            let b = StoreBudgets::of(total);
            let sum = b.refresh_tokens
                + b.access_tokens
                + b.codes
                + b.sessions
                + b.transactions
                + b.revoked;
            assert_eq!(sum, total);
        }
    }
}
