//! Starting and stopping the IdP: the builder, the handle, and the accept loop (HTTP or
//! HTTPS with rustls).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::control::ControlError;
use crate::expiring::Expiring;
use crate::faults::{ArmedFault, Fault, FaultError, FaultSet};
use crate::ids::random_b64;
use crate::journal::{Journal, JournalEntry};
use crate::state::{MAX_PENDING, MAX_TOKENS, Shared};
use crate::tenant::{Client, Tenant, User};

/// A certificate chain and key to serve HTTPS with, and the CA that clients should trust.
#[derive(Clone)]
pub struct TlsConfig {
    cert_pem: String,
    key_pem: String,
    ca_pem: String,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig { .. }")
    }
}

impl TlsConfig {
    /// The fixture certificate (`fixtures/tls/server.pem`, for `localhost`, `127.0.0.1`
    /// and `::1`) signed by the fixture CA (`fixtures/tls/ca.pem`). Test use only.
    pub fn fixture() -> Self {
        Self {
            cert_pem: include_str!("../../fixtures/tls/server.pem").into(),
            key_pem: include_str!("../../fixtures/tls/server.key").into(),
            ca_pem: include_str!("../../fixtures/tls/ca.pem").into(),
        }
    }

    /// A certificate chain, its key and the CA to trust, all PEM.
    pub fn from_pem(cert_pem: String, key_pem: String, ca_pem: String) -> Self {
        Self {
            cert_pem,
            key_pem,
            ca_pem,
        }
    }

    /// The CA certificate (PEM) clients should trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, StartError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let bad = |what: &str, e: String| StartError::Tls(format!("{what}: {e}"));
        let certs = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("certificate", e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| bad("private key", e.to_string()))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("protocol versions", e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad("certificate and key", e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// Errors starting the IdP.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// Configures and starts a [`MockIdp`].
#[derive(Debug)]
pub struct MockIdpBuilder {
    tenant: Option<Tenant>,
    addr: SocketAddr,
    host: Option<String>,
    clock: Clock,
    tls: Option<TlsConfig>,
    admin_token: Option<String>,
    journal_capacity: usize,
    journal_bytes: usize,
    store_bytes: usize,
    header_read_timeout: std::time::Duration,
    personality: Option<crate::personality::Personality>,
}

impl Default for MockIdpBuilder {
    fn default() -> Self {
        Self {
            tenant: None,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            host: None,
            clock: Clock::system(),
            tls: None,
            admin_token: None,
            journal_capacity: 100_000,
            journal_bytes: crate::journal::DEFAULT_MAX_BYTES,
            store_bytes: crate::state::DEFAULT_STORE_BYTES,
            header_read_timeout: HEADER_READ_TIMEOUT,
            personality: None,
        }
    }
}

impl MockIdpBuilder {
    /// The tenant to serve (default: the fixture tenant, [`Tenant::fixture`]).
    pub fn tenant(mut self, tenant: Tenant) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Which IdP to be on the wire (default: the tenant's, else Okta).
    pub fn personality(mut self, p: crate::personality::Personality) -> Self {
        self.personality = Some(p);
        self
    }

    /// The address to bind (default `127.0.0.1:0`, a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The host name in issuer URLs (default: the bound IP; `127.0.0.1` for `0.0.0.0`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Serve HTTPS.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The bearer token the admin API requires. On a non-loopback address one is
    /// generated when none is set; on loopback none is required unless set.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// How long a request's headers (or a TLS handshake) may take to arrive, and how long
    /// an idle keep-alive connection stays open (default 10 s).
    pub fn header_read_timeout(mut self, t: std::time::Duration) -> Self {
        self.header_read_timeout = t;
        self
    }

    /// About how much memory the journal may hold (the oldest entries go first; default
    /// 16 MiB).
    pub fn journal_bytes(mut self, n: usize) -> Self {
        self.journal_bytes = n;
        self
    }

    /// About how much memory the stores of issued codes, sessions, pending sign-ins,
    /// refresh tokens, access tokens' grants and revoked ids may hold together, each its
    /// share ([`crate::state::StoreBudgets::of`]); past its share, a store forgets what
    /// would expire first (refresh tokens: the oldest). Default 24 MiB.
    pub fn store_bytes(mut self, n: usize) -> Self {
        self.store_bytes = n;
        self
    }

    /// How many journal entries to keep (the oldest go first; default 100 000).
    pub fn journal_capacity(mut self, n: usize) -> Self {
        self.journal_capacity = n;
        self
    }

    fn shared(self, origins: Vec<String>, admin_token: Option<String>, port: u16) -> Arc<Shared> {
        let mut tenant = self.tenant.unwrap_or_else(Tenant::fixture);
        if let Some(p) = self.personality {
            tenant.personality = p;
        }
        tenant.normalize();
        let personality = tenant.personality;
        let faults = tenant.faults.clone();
        let origin = origins[0].clone();
        let budgets = crate::state::StoreBudgets::of(self.store_bytes);
        let shared = Arc::new(Shared {
            tenant: RwLock::new(tenant),
            key_pool: crate::keys::fixture_keys_for(personality),
            ec_key: crate::keys::fixture_ec_key(),
            app_key: std::sync::OnceLock::new(),
            moved_jwks: crate::ids::random_b64(18),
            rings: RwLock::new(HashMap::new()),
            clock: self.clock,
            origin,
            personality,
            origins,
            access_tokens: Mutex::new(Expiring::new(MAX_TOKENS, budgets.access_tokens)),
            journal: Journal::bounded(self.journal_capacity, self.journal_bytes),
            codes: Mutex::new(Expiring::new(MAX_PENDING, budgets.codes)),
            refresh_tokens: Mutex::new(Expiring::new(MAX_TOKENS, budgets.refresh_tokens)),
            sessions: Mutex::new(Expiring::new(MAX_PENDING, budgets.sessions)),
            transactions: Mutex::new(Expiring::new(MAX_PENDING, budgets.transactions)),
            revoked: Mutex::new(Expiring::new(MAX_TOKENS, budgets.revoked)),
            logout_jtis: Mutex::new(std::collections::HashMap::new()),
            faults: FaultSet::default(),
            cookie_name: format!("mockidp_sid_{port}"),
            secure_cookies: self.tls.is_some(),
            admin_token,
            known: crate::known::Known::default(),
            prepared: crate::state::Prepared::default(),
        });
        for fault in faults {
            // Tenant files are validated on load, faults included.
            let _ = shared.arm_fault(fault, false);
        }
        shared
    }

    /// The router alone, for in-process tests (`tower::ServiceExt::oneshot`), with
    /// `origin` as the base of every issuer.
    pub fn into_router(self, origin: &str) -> Router {
        let port = url::Url::parse(origin)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(0);
        let token = self.admin_token.clone();
        let p = self
            .personality
            .or(self.tenant.as_ref().map(|t| t.personality))
            .unwrap_or_default();
        // In process, every host of the personality is the one origin.
        let origins = vec![origin.trim_end_matches('/').to_string(); p.hosts().len()];
        crate::routes::app(self.shared(origins, token, port))
    }

    /// Binds and starts serving in the background.
    pub async fn start(self) -> Result<MockIdp, StartError> {
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.addr,
            source,
        })?;
        let acceptor = self.tls.as_ref().map(TlsConfig::acceptor).transpose()?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let host = self.host.clone().unwrap_or_else(|| match addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        });
        let origin = format!("{scheme}://{host}:{}", addr.port());
        let personality = self
            .personality
            .or(self.tenant.as_ref().map(|t| t.personality))
            .unwrap_or_default();
        // The personality's other hosts (Google's four, Cognito's two, Entra's Graph):
        // a loopback listener each, on the same address, any free port.
        let mut listeners = vec![listener];
        let mut origins = vec![origin.clone()];
        for _ in 1..personality.hosts().len() {
            let extra = SocketAddr::new(addr.ip(), 0);
            let l = TcpListener::bind(extra)
                .await
                .map_err(|source| StartError::Bind {
                    addr: extra,
                    source,
                })?;
            let port = l.local_addr().map_err(|source| StartError::Bind {
                addr: extra,
                source,
            })?;
            origins.push(format!("{scheme}://{host}:{}", port.port()));
            listeners.push(l);
        }
        let admin_token = self
            .admin_token
            .clone()
            .or_else(|| (!addr.ip().is_loopback()).then(|| random_b64(24)));
        let ca_pem = self.tls.as_ref().map(|t| t.ca_pem.clone());
        let self_timeout = self.header_read_timeout;
        let shared = self.shared(origins, admin_token.clone(), addr.port());
        let app = crate::routes::app(shared.clone());
        crate::ids::warm_up_signing_rng();
        let tasks = listeners
            .into_iter()
            .map(|l| tokio::spawn(serve(l, app.clone(), acceptor.clone(), self_timeout)))
            .collect();
        Ok(MockIdp {
            shared,
            addr,
            origin,
            tasks,
            ca_pem,
            admin_token,
        })
    }
}

/// At most this many connections at once; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 1024;
/// A request's headers (or a TLS handshake) must arrive within this; an idle keep-alive
/// connection waiting for its next request is closed after it too.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The most a connection buffers for one request's head (the URL and headers).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

async fn serve(
    listener: TcpListener,
    app: Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    header_timeout: std::time::Duration,
) {
    let mut conns = JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or a reset during accept: pause briefly.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let svc = TowerToHyperService::new(app.clone());
                let acceptor = acceptor.clone();
                conns.spawn(async move {
                    let _slot = slot;
                    let mut builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    builder
                        .http1()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .max_buf_size(MAX_HEAD_BYTES);
                    builder
                        .http2()
                        .timer(TokioTimer::new())
                        .keep_alive_interval(Some(header_timeout))
                        .keep_alive_timeout(header_timeout);
                    match acceptor {
                        Some(acceptor) => {
                            let handshake =
                                tokio::time::timeout(header_timeout, acceptor.accept(stream));
                            if let Ok(Ok(tls)) = handshake.await {
                                let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// A running mock IdP. Dropping it stops the server and closes its connections.
///
/// ```no_run
/// # async fn demo() {
/// let idp = mock_idp::MockIdp::start().await;
/// let issuer = idp.issuer("default"); // http://127.0.0.1:PORT/oauth2/default
/// # let _ = issuer;
/// # }
/// ```
pub struct MockIdp {
    shared: Arc<Shared>,
    addr: SocketAddr,
    origin: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    ca_pem: Option<String>,
    admin_token: Option<String>,
}

impl std::fmt::Debug for MockIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockIdp")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Drop for MockIdp {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl MockIdp {
    /// A builder.
    pub fn builder() -> MockIdpBuilder {
        MockIdpBuilder::default()
    }

    /// Starts the fixture tenant on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        Self::builder()
            .start()
            .await
            .expect("the mock IdP could not start")
    }

    /// `http://127.0.0.1:PORT` (or `https://…`): the org issuer.
    pub fn uri(&self) -> &str {
        &self.origin
    }

    /// The bound socket address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer of an authorization server: `org` gives the origin, any other id
    /// `{origin}/oauth2/{id}` (whether or not the server exists).
    pub fn issuer(&self, server: &str) -> String {
        let p = self.shared.personality;
        p.issuer(&self.shared.origins, self.server_id(server))
    }

    /// The server a name means under the personality (one issuer per host: `default`;
    /// `org` exists under Okta only).
    fn server_id<'a>(&self, server: &'a str) -> &'a str {
        let p = self.shared.personality;
        if p.single_issuer() || (server == "org" && p != crate::personality::Personality::Okta) {
            "default"
        } else {
            server
        }
    }

    /// Which IdP it is on the wire.
    pub fn personality(&self) -> crate::personality::Personality {
        self.shared.personality
    }

    /// The URL of `endpoint` of an authorization server, as its discovery document says
    /// (`None` when the IdP has no such endpoint, e.g. Google's logout).
    pub fn endpoint_url(&self, server: &str, endpoint: crate::journal::Endpoint) -> Option<String> {
        let p = self.shared.personality;
        p.url(&self.shared.origins, self.server_id(server), endpoint)
    }

    /// The origins of every host the IdP serves (the first is [`Self::uri`]).
    pub fn origins(&self) -> &[String] {
        &self.shared.origins
    }

    /// Every authorization server: (`org` or id, issuer URL).
    pub fn issuers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.shared.personality == crate::personality::Personality::Okta {
            out.push(("org".to_string(), self.issuer("org")));
        } else if self.shared.personality.single_issuer() {
            return vec![("default".to_string(), self.issuer("default"))];
        }
        for s in &self.shared.tenant().authorization_servers {
            out.push((s.id.clone(), self.issuer(&s.id)));
        }
        out
    }

    /// The whole journal.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.journal.since(0)
    }

    /// The number of the last journal entry (0 before any): pass it to
    /// [`MockIdp::journal_since`] later to read what came after.
    pub fn journal_seq(&self) -> u64 {
        self.shared.journal.last_seq()
    }

    /// Journal entries after `seq`.
    pub fn journal_since(&self, seq: u64) -> Vec<JournalEntry> {
        self.shared.journal.since(seq)
    }

    /// How many requests to `endpoint` the IdP answered successfully since it started
    /// (e.g. whether a relying party ever fetched the keys).
    pub fn answered(&self, endpoint: crate::Endpoint) -> u64 {
        self.shared.journal.answered(endpoint)
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        self.shared.journal.clear();
    }

    /// Runs a provisioning operation against an app's SCIM API, as Okta's provisioning
    /// client does ([`crate::scim`]); every request is in the journal (endpoint `scim`).
    pub async fn scim(
        &self,
        target: &crate::scim::ScimTarget,
        op: &crate::scim::ScimOp,
    ) -> Result<crate::scim::ScimOutcome, crate::scim::ScimError> {
        crate::scim::run(&self.shared, target, op).await
    }

    /// A snapshot of the tenant.
    pub fn tenant(&self) -> Tenant {
        self.shared.tenant().clone()
    }

    /// Replaces the tenant.
    pub fn replace_tenant(&self, tenant: Tenant) -> Result<(), ControlError> {
        self.shared.replace_tenant(tenant)
    }

    /// Adds or replaces a user (matched by login).
    pub fn upsert_user(&self, user: User) -> Result<(), ControlError> {
        self.shared.upsert_user(user)
    }

    /// Removes a user (login or id).
    pub fn remove_user(&self, login_or_id: &str) -> Result<(), ControlError> {
        self.shared.remove_user(login_or_id)
    }

    /// Adds or replaces a client.
    pub fn upsert_client(&self, client: Client) -> Result<(), ControlError> {
        self.shared.upsert_client(client)
    }

    /// Removes a client.
    pub fn remove_client(&self, client_id: &str) -> Result<(), ControlError> {
        self.shared.remove_client(client_id)
    }

    /// Assigns a user to a client.
    pub fn assign(&self, client_id: &str, user: &str) -> Result<(), ControlError> {
        self.shared.set_assignment(client_id, user, true)
    }

    /// Unassigns a user from a client (also through groups).
    pub fn unassign(&self, client_id: &str, user: &str) -> Result<(), ControlError> {
        self.shared.set_assignment(client_id, user, false)
    }

    /// Rotates a server's signing keys; returns the new `kid`.
    pub fn rotate_keys(&self, server: &str, keep_old: bool) -> Result<String, ControlError> {
        self.shared.rotate_keys(server, keep_old)
    }

    /// The IdP's clock (move it if it was built frozen).
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The CA certificate (PEM) to trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The admin API token, when one is required.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// Arms a fault; it stays armed until the returned guard is dropped (or
    /// [`FaultGuard::keep`] is called).
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use mock_idp::faults::{Fault, FaultId};
    /// let idp = mock_idp::MockIdp::start().await;
    /// let guard = idp.arm(Fault::new(FaultId::StateMissing).for_user("alice@example.com")).unwrap();
    /// // ... alice logs in through the RP; the callback has no state ...
    /// assert_eq!(guard.fired(), 1);
    /// # }
    /// ```
    pub fn arm(&self, fault: Fault) -> Result<FaultGuard, FaultError> {
        let armed_id = self.shared.arm_fault(fault, false)?;
        Ok(FaultGuard {
            shared: self.shared.clone(),
            armed_id,
            keep: false,
        })
    }

    /// Arms a fault for good (no guard), checking that the user or client it is aimed at
    /// exists now; returns its handle. For the command line and files.
    pub fn arm_checked(&self, fault: Fault) -> Result<u64, FaultError> {
        self.shared.arm_fault(fault, true)
    }

    /// The armed faults.
    pub fn armed_faults(&self) -> Vec<ArmedFault> {
        self.shared.faults.list()
    }

    /// Disarms every fault.
    pub fn disarm_all(&self) {
        self.shared.faults.clear();
    }

    /// A handle that replaces, in any text, every code, token, secret and password this
    /// IdP issued or knows by a stable fingerprint (`[code:3f2a…]`).
    pub fn redactor(&self) -> Redactor {
        Redactor(self.shared.clone())
    }

    /// The name of the IdP session cookie (it carries the port, so IdPs and RPs on the
    /// same host do not overwrite each other's cookies).
    pub fn session_cookie_name(&self) -> &str {
        &self.shared.cookie_name
    }
}

/// Redaction from what the IdP knows (see [`MockIdp::redactor`]); cheap to clone.
#[derive(Clone)]
pub struct Redactor(Arc<Shared>);

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    /// `text` with every secret the IdP knows replaced by its fingerprint.
    pub fn redact(&self, text: &str) -> String {
        self.0.redact_known(text)
    }

    /// Every secret the IdP knows, in every form it takes in text.
    pub fn forms(&self) -> Vec<String> {
        self.0.known_forms()
    }

    /// The secrets known now, to redact many texts at once.
    pub fn snapshot(&self) -> std::sync::Arc<crate::known::Matcher> {
        self.0.matcher()
    }
}

/// Keeps a fault armed; dropping it disarms the fault.
#[must_use = "dropping the guard disarms the fault at once"]
pub struct FaultGuard {
    shared: Arc<Shared>,
    armed_id: u64,
    keep: bool,
}

impl std::fmt::Debug for FaultGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultGuard")
            .field("armed_id", &self.armed_id)
            .finish()
    }
}

impl FaultGuard {
    /// The handle of the armed fault (as listed by the admin API).
    pub fn armed_id(&self) -> u64 {
        self.armed_id
    }

    /// How many times the fault changed a request so far.
    pub fn fired(&self) -> u32 {
        self.shared.faults.fired(self.armed_id).unwrap_or(0)
    }

    /// Leaves the fault armed after the guard is gone; returns its handle.
    pub fn keep(mut self) -> u64 {
        self.keep = true;
        self.armed_id
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        if !self.keep {
            self.shared.faults.disarm(self.armed_id);
        }
    }
}
