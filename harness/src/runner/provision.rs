//! Provisioning: the mock IdP with the RP's client, and for each scenario a user of its
//! own with the scenario's faults armed for that user (or for everyone, for the faults
//! that cannot be aimed).

use std::collections::BTreeMap;

use mock_idp::{Client, FaultGuard, FaultId, MockIdp, Tenant, User};

use super::{Ctx, RunError};
use crate::profile::{Compiled, Who};
use crate::scenario::Scenario;

/// The group of the users assigned to the RP's app.
const ASSIGNED: &str = "harness-assigned";

fn client_of(p: &Compiled) -> Client {
    let prof = &p.profile;
    Client {
        client_id: prof.client_id.clone(),
        client_secret: prof.client_secret.as_ref().map(mock_idp::Secret::new),
        token_endpoint_auth_method: prof.auth_method,
        redirect_uris: prof.redirect_uris.clone(),
        app_signing_key: prof.app_signing_key,
        post_logout_redirect_uris: prof.post_logout_redirect_uris.clone(),
        grant_types: vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "implicit".into(),
        ],
        response_types: [
            "code",
            "id_token",
            "token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        pkce_required: false,
        trusted_origins: prof.trusted_origins.clone(),
        assigned_users: vec![],
        assigned_groups: vec![ASSIGNED.into()],
        access_token_lifetime_secs: prof.access_token_lifetime_secs,
        backchannel_logout_uri: prof.backchannel_logout_uri.clone(),
        frontchannel_logout_uri: prof.frontchannel_logout_uri.clone(),
        session_management: prof.session_management,
        claims: BTreeMap::new(),
        claim_names: prof.claim_names.clone(),
    }
}

/// Starts the mock IdP with the profile's client; returns it and the authorization
/// server the RP uses.
pub(crate) async fn start_idp(profile: &Compiled) -> Result<(MockIdp, String), RunError> {
    let idp = profile.profile.idp;
    // Access rules an IdP cannot serve: every login would be refused.
    if profile.profile.required_group.is_some() && idp.groups_at().is_none() {
        return Err(RunError(format!(
            "the profile admits one group (`required_group`), and {} sends no groups: run it under another IdP (--idp)",
            idp.title()
        )));
    }
    if profile.profile.hosted_domain.is_some() && idp != mock_idp::Personality::Google {
        return Err(RunError(format!(
            "the profile admits one Google Workspace domain (`hosted_domain`), which only Google's `hd` claim says; the IdP here is {} (--idp google)",
            idp.title()
        )));
    }
    let server = profile.profile.authorization_server.clone();
    let mut tenant = Tenant::default();
    if server != "org" && server != "default" {
        tenant
            .authorization_servers
            .push(mock_idp::AuthorizationServer::new(&server));
    }
    tenant.clients.push(client_of(profile));
    let mut tenant = tenant
        .validated()
        .map_err(|e| RunError(format!("the profile's client is not valid: {e}")))?;
    // An RP that admits one group: the IdP is set up to send groups, as its admin would
    // (Okta's and Entra's groups claim, an Auth0 Action).
    if profile.profile.required_group.is_some() && idp.groups_need_claim() {
        let id = if idp.is_alias(&server) {
            "default"
        } else {
            server.as_str()
        };
        for s in tenant
            .authorization_servers
            .iter_mut()
            .filter(|s| s.id == id)
        {
            s.groups_claim = Some("groups".into());
        }
    }
    let addr = profile
        .profile
        .idp_addr
        .unwrap_or_else(|| "127.0.0.1:0".parse().expect("valid address"));
    let mut builder = MockIdp::builder()
        .tenant(tenant)
        .addr(addr)
        .personality(profile.profile.idp);
    if profile.profile.idp_tls {
        builder = builder.tls(mock_idp::TlsConfig::fixture());
    }
    let idp = builder
        .start()
        .await
        .map_err(|e| RunError(format!("the mock IdP could not start: {e}")))?;
    Ok((idp, server))
}

/// Provisions (or, with `remove`, deprovisions) user `login` at the RP's SCIM API (the
/// profile's `[provisioning]`): what it did, or what failed, naming the request.
pub(crate) async fn scim(ctx: &Ctx, login: &str, remove: bool) -> Result<String, String> {
    use mock_idp::scim::ScimOp;
    let Some(target) = &ctx.profile.profile.provisioning else {
        return Err("the profile has no [provisioning]".into());
    };
    let user = login.to_string();
    let op = if remove {
        ScimOp::Deprovision { user }
    } else {
        ScimOp::Provision { user }
    };
    let done = if remove {
        "deprovisioned"
    } else {
        "provisioned"
    };
    ctx.idp
        .scim(target, &op)
        .await
        .map(|o| {
            format!(
                "{done} at the RP's SCIM API as {} ({} request(s))",
                o.id.as_deref()
                    .unwrap_or("nothing: the RP did not have the user"),
                o.requests
            )
        })
        .map_err(|e| e.0)
}

/// The scenario's user as the IdP has them now.
fn user_at_idp(ctx: &Ctx, login: &str) -> Result<User, String> {
    ctx.idp
        .tenant()
        .user(login)
        .cloned()
        .ok_or_else(|| format!("no user `{login}` at the IdP"))
}

/// Changes user `login`'s email at the IdP to `{id}.renamed@harness.test` (the login and
/// `sub` stay), and, when they were `provisioned` at the RP's SCIM API, pushes the change
/// there (`PUT /Users/{id}`): the new email, and what was done.
pub(crate) async fn update_email(
    ctx: &Ctx,
    s: &Scenario,
    login: &str,
    provisioned: bool,
) -> Result<(String, String), String> {
    let mut user = user_at_idp(ctx, login)?;
    let email = format!("{}.renamed@harness.test", s.id);
    user.profile.email = Some(email.clone());
    ctx.idp
        .upsert_user(user)
        .map_err(|e| format!("cannot change the user's email: {e}"))?;
    let mut done = format!("the user's email is now {email} at the IdP");
    if let (Some(_), true) = (&ctx.profile.profile.provisioning, provisioned) {
        done.push_str("; ");
        done.push_str(&scim(ctx, login, false).await?);
    }
    Ok((email, done))
}

/// The user's accounts at the RP's SCIM API, looked up by each of `names` (the login, and
/// every email they had): `id (userName)` for each distinct one, or why the RP could not
/// be asked.
pub(crate) async fn accounts(
    ctx: &Ctx,
    login: &str,
    names: &[String],
) -> Result<Vec<String>, String> {
    let Some(target) = &ctx.profile.profile.provisioning else {
        return Err("the profile has no [provisioning]".into());
    };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut names: Vec<&String> = names.iter().collect();
    names.sort();
    names.dedup();
    for name in names {
        let op = mock_idp::scim::ScimOp::Lookup {
            user_name: name.clone(),
            user: Some(login.to_string()),
        };
        let found = ctx.idp.scim(target, &op).await.map_err(|e| e.0)?.found;
        for id in found {
            if !seen.contains(&id) {
                out.push(format!("{id} (userName {name})"));
                seen.push(id);
            }
        }
    }
    Ok(out)
}

/// Adds user `login` to the profile's required group (`member`) or removes them from it,
/// at the IdP, and pushes the group to the RP's SCIM API when the profile has one: what
/// it did, or what failed.
pub(crate) async fn regroup(ctx: &Ctx, login: &str, member: bool) -> Result<String, String> {
    let Some(group) = ctx.profile.profile.required_group.clone() else {
        return Err("the profile has no required_group".into());
    };
    let mut user = user_at_idp(ctx, login)?;
    user.groups.retain(|g| *g != group);
    if member {
        user.groups.push(group.clone());
    }
    ctx.idp
        .upsert_user(user)
        .map_err(|e| format!("cannot change the user's groups: {e}"))?;
    let mut done = if member {
        format!("added to group {group} at the IdP")
    } else {
        format!("removed from group {group} at the IdP")
    };
    if let Some(target) = &ctx.profile.profile.provisioning {
        let op = mock_idp::scim::ScimOp::PushGroup {
            group: group.clone(),
        };
        let o = ctx.idp.scim(target, &op).await.map_err(|e| e.0)?;
        done.push_str(&format!(
            "; the group pushed to the RP's SCIM API ({} request(s))",
            o.requests
        ));
    }
    Ok(done)
}

/// A file of the run's, deleted when the run ends (dropped).
pub(crate) struct RunFile(std::path::PathBuf);

impl Drop for RunFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The template variables of the RP's start command, and the file `{ca_file}` names
/// (the CA that signed the IdP's certificate, when it serves HTTPS): one per run, as
/// runs in one process may trust different CAs, deleted when the run ends.
pub(crate) fn rp_vars(
    ctx: &Ctx,
    issuer: &str,
) -> Result<(BTreeMap<&'static str, String>, Option<RunFile>), RunError> {
    let p = &ctx.profile.profile;
    let mut vars = BTreeMap::new();
    vars.insert("issuer", issuer.to_string());
    vars.insert("client_id", p.client_id.clone());
    vars.insert("client_secret", p.client_secret.clone().unwrap_or_default());
    vars.insert("redirect_uri", p.redirect_uris[0].clone());
    let ca_file = match ctx.idp.ca_pem() {
        Some(pem) => {
            static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("oidc-harness-ca-{}-{n}.pem", std::process::id()));
            mock_idp::cli::write_atomic(&path, pem.as_bytes()).map_err(|e| {
                RunError(format!("{}: cannot write the CA file: {e}", path.display()))
            })?;
            Some(RunFile(path))
        }
        None => None,
    };
    vars.insert(
        "ca_file",
        ca_file
            .as_ref()
            .map(|f| f.0.display().to_string())
            .unwrap_or_default(),
    );
    vars.insert("profile_dir", ctx.profile.dir.display().to_string());
    // Where the IdP puts groups, and the required group's id there.
    let idp = p.idp;
    let (token, claim) = idp.groups_at().unwrap_or(("id_token", "groups"));
    vars.insert("groups_token", token.to_string());
    vars.insert("groups_claim", claim.to_string());
    let group = p
        .required_group
        .as_deref()
        .and_then(|g| mock_idp::personality::claims::group_id(idp, g))
        .unwrap_or_default();
    vars.insert("required_group", group);
    // The IdP's logout endpoint even where discovery names none (Cognito's `/logout`), and
    // its name for the return URI there.
    let server = &p.authorization_server;
    vars.insert(
        "end_session_endpoint",
        ctx.idp
            .endpoint_url(server, mock_idp::Endpoint::Logout)
            .unwrap_or_default(),
    );
    let param = idp
        .logout_redirect_param()
        .filter(|_| !idp.advertises_end_session())
        .unwrap_or("post_logout_redirect_uri");
    vars.insert("logout_return_param", param.to_string());
    Ok((vars, ca_file))
}

/// A scenario's user and armed faults, and where its flow starts in the journal and the
/// RP's log.
pub(crate) struct Prepared {
    /// The login typed at the IdP.
    pub login: String,
    /// Its password (never in a report).
    pub password: String,
    /// The user's id (`sub`).
    pub user_id: String,
    /// Who the RP must show after a login.
    pub who: Who,
    /// The armed faults: label, id, guard (dropping it disarms).
    pub guards: Vec<(String, FaultId, FaultGuard)>,
    /// The journal's last number before the scenario began.
    pub before: u64,
    /// The RP log's mark before the scenario began.
    pub log_mark: usize,
    /// How many groups the user is in (`Everyone` included).
    pub groups: usize,
}

/// The login of a scenario's user (an email unless the scenario wants none).
pub(crate) fn login_of(s: &Scenario) -> String {
    if s.user.email {
        format!("{}@harness.test", s.id)
    } else {
        format!("{}.harness", s.id)
    }
}

/// The scenario's user at the IdP, as the scenario and the profile's access rules say.
pub(crate) fn scenario_user(profile: &Compiled, s: &Scenario, login: &str, password: &str) -> User {
    let mut user = User::new(login, password);
    user.profile.given_name = Some("Harness".into());
    user.profile.family_name = Some(s.id.clone());
    user.profile.email = s.user.email.then(|| format!("{}@harness.test", s.id));
    user.profile.email_verified = s.user.email_verified;
    user.groups = s.user.groups.clone();
    if s.user.assigned {
        user.groups.push(ASSIGNED.into());
    }
    match &profile.profile.required_group {
        Some(g) if s.user.in_required_group => user.groups.push(g.clone()),
        _ => {}
    }
    user.groups
        .extend((1..=s.user.extra_groups).map(|n| format!("harness-group-{n}")));
    user.managed = s.user.managed;
    user
}

/// Arms the scenario's faults, aimed at user `login` where they can be: label, id and
/// guard of each (dropping a guard disarms).
pub(crate) fn arm(
    idp: &MockIdp,
    s: &Scenario,
    login: &str,
) -> Result<Vec<(String, FaultId, FaultGuard)>, String> {
    let mut guards = Vec::new();
    for f in &s.faults {
        let f = if f.id.doc().scoped {
            f.clone().for_user(login.to_string())
        } else {
            f.clone()
        };
        let label = f.label();
        let g = idp
            .arm(f.clone())
            .map_err(|e| format!("cannot arm `{label}`: {e}"))?;
        guards.push((label, f.id, g));
    }
    Ok(guards)
}

/// Creates the scenario's user and arms its faults.
pub(crate) fn prepare(ctx: &Ctx, s: &Scenario) -> Result<Prepared, String> {
    let before = ctx.idp.journal_seq();
    let log_mark = ctx.log.mark();
    let login = login_of(s);
    let password = ctx
        .password
        .clone()
        .unwrap_or_else(|| mock_idp::ids::random_b64(18));
    ctx.log.add_secret(&password);
    let user = scenario_user(&ctx.profile, s, &login, &password);
    let who = Who {
        email: user.profile.email.clone(),
        sub: user.id.clone(),
        name: user.display_name(),
    };
    let user_id = user.id.clone();
    let groups = user.groups.len() + 1;
    ctx.idp
        .upsert_user(user)
        .map_err(|e| format!("cannot provision the scenario's user: {e}"))?;
    let guards = arm(&ctx.idp, s, &login)?;
    Ok(Prepared {
        login,
        password,
        user_id,
        who,
        guards,
        before,
        log_mark,
        groups,
    })
}
