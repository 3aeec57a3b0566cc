//! The standalone IdP command (`oidc-harness idp`, also the `mock-idp` binary): serves a
//! tenant until interrupted, printing its issuer URLs.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::{Clock, MockIdp, Tenant, TlsConfig};

/// Options of `oidc-harness idp`.
#[derive(clap::Args, Debug, Clone)]
pub struct IdpArgs {
    /// Tenant file (TOML, see docs/tenant-format.md). Default: the built-in fixture tenant
    /// (fixtures/tenants/default.toml).
    #[arg(long, value_name = "FILE", env = "OIDC_HARNESS_TENANT")]
    pub tenant: Option<PathBuf>,
    /// Address to listen on. Port 0 picks a free port.
    #[arg(
        long,
        value_name = "IP:PORT",
        default_value = "127.0.0.1:9000",
        env = "OIDC_HARNESS_ADDR"
    )]
    pub addr: SocketAddr,
    /// Serve HTTPS. Without --tls-cert, uses the fixture certificate (localhost,
    /// 127.0.0.1, ::1) signed by the fixture CA, whose file is printed at start.
    #[arg(long, env = "OIDC_HARNESS_TLS")]
    pub tls: bool,
    /// PEM certificate chain for --tls (with --tls-key and --tls-ca).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "tls_key", "tls_ca"])]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate that signed --tls-cert (printed for clients to trust).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_ca: Option<PathBuf>,
    /// Which IdP to be on the wire: okta (default), entra, adfs, auth0, keycloak, google,
    /// cognito, pingfederate, pingone or generic (docs/personalities.md). Overrides the
    /// tenant file's `personality`.
    #[arg(long, value_name = "IDP", env = "OIDC_HARNESS_PERSONALITY")]
    pub personality: Option<crate::personality::Personality>,
    /// Host name to put in issuer URLs (default: the listening IP).
    #[arg(long, env = "OIDC_HARNESS_HOST")]
    pub host: Option<String>,
    /// Freeze the IdP's clock at this Unix time (move it with POST /_harness/clock).
    #[arg(long, value_name = "UNIX_SECS")]
    pub frozen_clock: Option<i64>,
    /// Arm a fault at start, for everyone or one user: `ID[=PARAM][:USER]`, e.g.
    /// `state-missing`, `nonce-mismatch:alice@example.com`, `idp-error=login_required`.
    /// Repeat for several. The catalog: docs/faults.md or GET /_harness/faults. In
    /// OIDC_HARNESS_FAULTS (for containers), several are separated by `;` (a parameter may
    /// hold commas).
    #[arg(
        long = "fault",
        value_name = "ID[=PARAM][:USER]",
        value_parser = parse_fault,
        env = "OIDC_HARNESS_FAULTS",
        value_delimiter = ';'
    )]
    pub faults: Vec<crate::faults::Fault>,
    /// Token for the admin API (/_harness/). Required by the API only on a non-loopback
    /// address, where one is generated and printed if not given.
    #[arg(long, env = "MOCK_IDP_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Memory for what the IdP remembers of what it issued (codes, sessions, pending
    /// sign-ins, refresh tokens, access tokens' grants, revoked ids), in MiB, each its share.
    /// Refresh tokens never expire: they get 3/8 (about 21,000 at the default), the oldest
    /// forgotten first, and the journal says so when one is refused for it. With the
    /// journal's 16 MiB, the default keeps the IdP under 64 MiB after any traffic.
    #[arg(long, value_name = "MIB", env = "OIDC_HARNESS_STORE_MIB", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub store_mib: u32,
}

fn parse_fault(s: &str) -> Result<crate::faults::Fault, String> {
    s.parse()
        .map_err(|e: crate::faults::FaultError| e.to_string())
}

/// Why the command failed, with the exit code to use.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input file or option: exit code 2.
    #[error("{0}")]
    Input(String),
    /// The IdP could not run: exit code 3.
    #[error("{0}")]
    Run(String),
}

impl CliError {
    /// The process exit code: 2 bad input, 3 could not run.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Input(_) => 2,
            Self::Run(_) => 3,
        }
    }
}

fn read(path: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))
}

/// Writes `contents` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Nothing half-written stays behind (a full disk, a read-only folder).
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Starts the IdP as `args` say; returns it with the lines to print.
pub async fn start(args: &IdpArgs) -> Result<(MockIdp, Vec<String>), CliError> {
    let tenant = match &args.tenant {
        Some(path) => Tenant::from_file(path).map_err(|e| CliError::Input(e.to_string()))?,
        None => Tenant::fixture(),
    };
    let mut builder = MockIdp::builder().tenant(tenant).addr(args.addr);
    if let Some(p) = args.personality {
        builder = builder.personality(p);
    }
    if let Some(h) = &args.host {
        builder = builder.host(h.clone());
    }
    if let Some(t) = args.frozen_clock {
        builder = builder.clock(Clock::frozen(t));
    }
    if let Some(t) = &args.admin_token {
        builder = builder.admin_token(t.clone());
    }
    builder = builder.store_bytes(args.store_mib as usize * 1024 * 1024);
    let mut ca_file = None;
    if args.tls {
        let tls = match (&args.tls_cert, &args.tls_key, &args.tls_ca) {
            (Some(c), Some(k), Some(ca)) => {
                ca_file = Some(ca.clone());
                TlsConfig::from_pem(read(c)?, read(k)?, read(ca)?)
            }
            _ => {
                let tls = TlsConfig::fixture();
                let path = std::env::temp_dir().join("oidc-harness-ca.pem");
                write_atomic(&path, tls.ca_pem().as_bytes()).map_err(|e| {
                    CliError::Run(format!("{}: cannot write the CA file: {e}", path.display()))
                })?;
                ca_file = Some(path);
                tls
            }
        };
        builder = builder.tls(tls);
    }
    let idp = builder
        .start()
        .await
        .map_err(|e| CliError::Run(e.to_string()))?;
    let mut armed = Vec::new();
    for fault in &args.faults {
        idp.arm_checked(fault.clone())
            .map_err(|e| CliError::Input(format!("--fault {fault}: {e}")))?;
        armed.push(fault.to_string());
    }
    let bound = idp.address();
    let served_host = url::Url::parse(idp.uri())
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
        .unwrap_or_default();
    // The real bind address, and the URL issuers use when it differs (0.0.0.0, --host).
    let who = idp.personality().title();
    let mut lines = vec![if bound.ip().to_string() == served_host {
        format!("mock IdP ({who} on the wire) listening on {}", idp.uri())
    } else {
        format!(
            "mock IdP ({who} on the wire) listening on {bound}, issuers on {}",
            idp.uri()
        )
    }];
    let hosts = idp.personality().hosts();
    for (role, origin) in hosts.iter().zip(idp.origins()).skip(1) {
        lines.push(format!("  host {role:<30} {origin}"));
    }
    if !bound.ip().is_loopback() {
        lines.push(format!(
            "  warning: {bound} is reachable beyond this machine: anyone who can reach it can sign in as the tenant's users and read the journal; the admin API needs the token below"
        ));
    }
    let okta = idp.personality() == crate::personality::Personality::Okta;
    for (id, issuer) in idp.issuers() {
        let label = if id == "org" || !okta {
            id.clone()
        } else {
            format!("oauth2/{id}")
        };
        lines.push(format!("  issuer {label:<28} {issuer}"));
    }
    if let Some(url) = idp.endpoint_url("default", crate::Endpoint::Discovery) {
        lines.push(format!("  discovery (default)          {url}"));
    }
    lines.push(format!(
        "  journal                      {}/_harness/journal",
        idp.uri()
    ));
    if let Some(url) = try_url(&idp) {
        lines.push(format!("  try it in a browser          {url}"));
    }
    lines.extend(product_form(&idp));
    for f in armed {
        lines.push(format!("  fault armed                  {f}"));
    }
    if let Some(ca) = ca_file {
        lines.push(format!("  CA file (trust it)           {}", ca.display()));
    }
    if let Some(token) = idp.admin_token() {
        lines.push(format!("  admin token                  {token}"));
    }
    lines.push("Press Ctrl-C to stop.".into());
    Ok((idp, lines))
}

/// What to paste into the tenant's product's SSO form, in its field names.
fn product_form(idp: &MockIdp) -> Vec<String> {
    let tenant = idp.tenant();
    let Some(form) = &tenant.product else {
        return Vec::new();
    };
    let Some(client) = tenant.client(&form.client) else {
        return Vec::new();
    };
    let vars = [
        ("{issuer}", idp.issuer(&form.server)),
        (
            "{discovery}",
            idp.endpoint_url(&form.server, crate::Endpoint::Discovery)
                .unwrap_or_default(),
        ),
        ("{client_id}", client.client_id.clone()),
        (
            "{client_secret}",
            client
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_string())
                .unwrap_or_default(),
        ),
        (
            "{redirect_uri}",
            client.redirect_uris.first().cloned().unwrap_or_default(),
        ),
    ];
    let mut out = vec![match &form.place {
        Some(place) => format!("Paste into {}'s {place}:", form.name),
        None => format!("Paste into the {} SSO form:", form.name),
    }];
    for f in &form.fields {
        let value = vars
            .iter()
            .fold(f.value.clone(), |v, (k, with)| v.replace(k, with));
        out.push(format!("  {:<28} {value}", f.label));
    }
    out
}

/// A sign-in URL for the first confidential code-flow client of the tenant, so a person
/// can see the sign-in page and where the code lands without setting up an RP.
fn try_url(idp: &MockIdp) -> Option<String> {
    let tenant = idp.tenant();
    let client = tenant.clients.iter().find(|c| {
        !c.is_public() && c.allows_response_type("code") && !c.redirect_uris.is_empty()
    })?;
    let mut url =
        url::Url::parse(&idp.endpoint_url("default", crate::Endpoint::Authorize)?).ok()?;
    url.query_pairs_mut()
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &client.redirect_uris[0])
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email")
        .append_pair("state", "try-it")
        .append_pair("nonce", "try-it");
    Some(url.into())
}

/// Runs a binary's `main` (which returns its exit code) so that a closed pipe on stdout or
/// stderr (`oidc-harness list | head`) ends it quietly with 141 (128 + SIGPIPE, what a shell
/// shows for a C tool cut off the same way), not with a panic's message and backtrace. The
/// panic still unwinds, so what the command started is stopped as on any panic. SIGPIPE
/// itself stays ignored: the servers write to sockets whose peers may be gone.
pub fn exit_code_of(main: impl FnOnce() -> i32) -> i32 {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !closed_pipe(info.payload()) {
            default(info);
        }
    }));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(main)) {
        Ok(code) => code,
        Err(payload) if closed_pipe(payload.as_ref()) => 141,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Whether a panic's payload is the standard library's for a print to a closed stdout or
/// stderr.
fn closed_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    message.starts_with("failed printing to std") && message.contains("Broken pipe")
}

/// The runtime the `mock-idp` and `oidc-harness` binaries run on: the current-thread
/// scheduler when this process may use one CPU (a pinned benchmark, a one-CPU CI container),
/// the multi-thread one otherwise. With a single worker the multi-thread scheduler only
/// adds its hand-offs: side by side on one core the current-thread IdP serves 3.1% more
/// discovery requests, 1.1-1.8% more logins and 1.1% more tokens per CPU-second.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| CliError::Run(format!("cannot start the async runtime: {e}")))
}

/// Runs the IdP until Ctrl-C or SIGTERM (a container runtime's stop), then stops it and
/// exits 0.
pub async fn run(args: IdpArgs) -> Result<(), CliError> {
    let (idp, lines) = start(&args).await?;
    for l in lines {
        println!("{l}");
    }
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::Run(format!("cannot wait for SIGTERM: {e}")))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => {
            r.map_err(|e| CliError::Run(format!("cannot wait for Ctrl-C: {e}")))?;
        }
        _ = term.recv() => {}
    }
    drop(idp);
    eprintln!("stopped");
    Ok(())
}
