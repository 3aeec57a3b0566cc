//! The IdP's side of fault injection: who a request is about, firing faults with
//! evidence in the journal, issuing ID tokens through the ID token faults, and arming.

use super::tamper;
use super::{Fault, FaultCtx, FaultError, FaultId, Strikes};
use crate::journal::JournalEntry;
use crate::jwt::Claims;
use crate::state::{ServerCtx, Shared};

impl Shared {
    /// The fault context of a request about `user_id` (id) and `client_id`.
    pub fn fault_ctx(&self, user_id: Option<&str>, client_id: Option<&str>) -> FaultCtx {
        let login = user_id.and_then(|id| self.user(id).map(|u| u.login.clone()));
        FaultCtx {
            user_id: user_id.map(str::to_string),
            login,
            client_id: client_id.map(str::to_string),
        }
    }

    /// Fires the live faults that strike at `point` and match `ctx`, and records them on
    /// `j` (the journal is the evidence that they struck).
    pub fn fire(&self, point: Strikes, ctx: &FaultCtx, j: &mut JournalEntry) -> Vec<Fault> {
        self.fire_where(point, ctx, j, |_| true)
    }

    /// As [`Shared::fire`], for the faults that `applies` to this answer.
    pub fn fire_where(
        &self,
        point: Strikes,
        ctx: &FaultCtx,
        j: &mut JournalEntry,
        applies: impl Fn(FaultId) -> bool,
    ) -> Vec<Fault> {
        let fired = self.faults.take_where(point, ctx, applies);
        for f in &fired {
            let label = f.label();
            if !j.faults.contains(&label) {
                j.faults.push(label);
            }
        }
        fired
    }

    /// Signs an ID token after the ID token faults aimed at this request changed it (and,
    /// for the ID token of a refresh response, the refresh faults).
    pub fn issue_id_token(
        &self,
        srv: &ServerCtx,
        client: &crate::tenant::Client,
        mut claims: Claims,
        ctx: &FaultCtx,
        j: &mut JournalEntry,
        refresh: bool,
    ) -> String {
        // The nonce, at_hash and c_hash faults strike only where the claim belongs: a
        // nonce the RP sent (OIDC Core 3.1.3.7 step 11 checks only that), an access token
        // or a code issued with the ID token.
        let has = |k: &str| claims.contains_key(k);
        let (nonce, at_hash, c_hash) = (has("nonce"), has("at_hash"), has("c_hash"));
        let app_claims = app_claims_in(client, &claims);
        let changes = self.fire_where(Strikes::IdTokenClaims, ctx, j, |id| match id {
            FaultId::NonceMissing | FaultId::NonceMismatch => nonce,
            FaultId::AtHashBad | FaultId::AtHashMissing => at_hash,
            FaultId::CHashBad | FaultId::CHashMissing => c_hash,
            FaultId::AppClaimsMissing => !app_claims.is_empty(),
            _ => true,
        });
        tamper::id_token_claims(self, srv, &changes, &mut claims);
        if changes.iter().any(|f| f.id == FaultId::AppClaimsMissing) {
            for k in &app_claims {
                claims.remove(k);
            }
        }
        if refresh {
            let changes = self.fire(Strikes::RefreshIdToken, ctx, j);
            tamper::refresh_id_token_claims(self, srv, &changes, &mut claims);
        }
        let signature = self.fire(Strikes::IdTokenSignature, ctx, j);
        if signature.first().is_some_and(|f| f.id == FaultId::AlgNone)
            && j.endpoint == Some(crate::journal::Endpoint::Token)
        {
            // OIDC Core 3.1.3.8: at the token endpoint `at_hash` is optional; without it,
            // being unsigned is the token's only defect.
            claims.remove("at_hash");
        }
        let secret = client.client_secret.as_ref().map(|s| s.expose());
        let token = tamper::sign_id_token(
            self,
            srv,
            signature.first(),
            &claims,
            secret,
            &client.client_id,
        );
        self.known.remember("id_token", &token);
        j.id_token = if signature.is_empty() {
            // Untouched: the header and claims it was made of (no need to decode it).
            let key = self.id_token_key(&srv.id, &client.client_id);
            Some(crate::jwt::shown(crate::jwt::rs256_header(&key), claims))
        } else {
            crate::jwt::decode_unverified(&token).map(|(h, p)| crate::jwt::shown(h, p))
        };
        token
    }

    /// Validates and arms a fault. With `check_names`, the user or client it is aimed at
    /// must exist now (the command line and tenant files; the APIs may aim ahead).
    /// Key rotation faults act at once.
    pub fn arm_fault(&self, fault: Fault, check_names: bool) -> Result<u64, FaultError> {
        fault.validate()?;
        if check_names {
            let tenant = self.tenant();
            if let Some(u) = &fault.user {
                tenant
                    .user(u)
                    .ok_or_else(|| FaultError::UnknownUser(u.clone()))?;
            }
            if let Some(c) = &fault.client {
                tenant
                    .client(c)
                    .ok_or_else(|| FaultError::UnknownClient(c.clone()))?;
            }
        }
        let servers: Vec<String> = match (&fault.id, &fault.param) {
            (FaultId::KeyRotationKeepOld | FaultId::KeyRotationDropOld, Some(s)) => {
                if self.server(s).is_none() {
                    return Err(FaultError::BadParam {
                        id: fault.id,
                        expected: "an authorization server of this tenant (`org`, `default`, …)",
                        found: s.clone(),
                    });
                }
                vec![s.clone()]
            }
            (FaultId::KeyRotationKeepOld | FaultId::KeyRotationDropOld, None) => {
                let mut all = vec!["org".to_string()];
                all.extend(
                    self.tenant()
                        .authorization_servers
                        .iter()
                        .map(|s| s.id.clone()),
                );
                all
            }
            _ => Vec::new(),
        };
        let id = fault.id;
        let armed = self.faults.arm(fault);
        if !servers.is_empty() {
            let keep = id == FaultId::KeyRotationKeepOld;
            for s in servers {
                self.with_ring(&s, |r| r.rotate(keep));
            }
            self.prepared.keys_changed();
            self.faults.count(armed);
        }
        Ok(armed)
    }
}

/// The claims of `claims` that the app's settings added (`claims`, `claim_names`) and a
/// standard claim of the same name did not already hold.
pub(crate) fn app_claims_in(
    client: &crate::tenant::Client,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    client
        .claims
        .keys()
        .chain(client.claim_names.keys())
        .filter(|k| claims.contains_key(*k))
        .cloned()
        .collect()
}
