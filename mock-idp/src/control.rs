//! Run-time changes to the tenant and keys, shared by the Rust handle and the admin API.
//! Every change is validated as a whole tenant before it takes effect.

use crate::state::{Shared, lock};
use crate::tenant::{Client, Tenant, TenantError, User};

/// Errors changing the IdP at run time.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The change would leave the tenant invalid.
    #[error(transparent)]
    Invalid(#[from] TenantError),
    /// The named thing does not exist.
    #[error("no {kind} `{name}` in this tenant")]
    NotFound {
        /// `user`, `client` or `authorization server`.
        kind: &'static str,
        /// What was asked for.
        name: String,
    },
    /// A tenant for another IdP than the one running.
    #[error(
        "the IdP runs as {running}: its personality is fixed when it starts (this tenant says {asked}; start another IdP with --personality {asked})"
    )]
    PersonalityFixed {
        /// The running personality.
        running: crate::personality::Personality,
        /// The tenant's.
        asked: crate::personality::Personality,
    },
}

impl Shared {
    fn change(
        &self,
        f: impl FnOnce(&mut Tenant) -> Result<(), ControlError>,
    ) -> Result<(), ControlError> {
        self.change_tenant(|now| {
            let mut candidate = now.clone();
            f(&mut candidate)?;
            Ok(candidate.validated()?)
        })
    }

    /// Replaces the whole tenant.
    pub fn replace_tenant(&self, mut tenant: Tenant) -> Result<(), ControlError> {
        use crate::personality::Personality;
        // A tenant that names no personality keeps the running one.
        if tenant.personality == Personality::Okta {
            tenant.personality = self.personality;
        }
        if tenant.personality != self.personality {
            return Err(ControlError::PersonalityFixed {
                running: self.personality,
                asked: tenant.personality,
            });
        }
        self.change(|t| {
            *t = tenant;
            Ok(())
        })
    }

    /// Adds a user, or replaces the one with the same login.
    pub fn upsert_user(&self, mut user: User) -> Result<(), ControlError> {
        user.normalize();
        self.change(|t| {
            match t
                .users
                .iter_mut()
                .find(|u| u.login.eq_ignore_ascii_case(&user.login))
            {
                Some(u) => *u = user,
                None => t.users.push(user),
            }
            Ok(())
        })
    }

    /// Removes a user (by login or id) and the sessions it had.
    pub fn remove_user(&self, login_or_id: &str) -> Result<(), ControlError> {
        let mut removed = None;
        self.change(|t| {
            let pos = t
                .users
                .iter()
                .position(|u| u.id == login_or_id || u.login.eq_ignore_ascii_case(login_or_id))
                .ok_or_else(|| not_found("user", login_or_id))?;
            let user = t.users.remove(pos);
            for c in &mut t.clients {
                c.assigned_users
                    .retain(|a| *a != user.id && *a != user.login);
            }
            removed = Some(user.id);
            Ok(())
        })?;
        if let Some(id) = removed {
            lock(&self.sessions).retain(|_, s| s.user_id != id);
        }
        Ok(())
    }

    /// Adds a client, or replaces the one with the same id.
    pub fn upsert_client(&self, client: Client) -> Result<(), ControlError> {
        self.change(|t| {
            match t
                .clients
                .iter_mut()
                .find(|c| c.client_id == client.client_id)
            {
                Some(c) => *c = client,
                None => t.clients.push(client),
            }
            Ok(())
        })
    }

    /// Removes a client.
    pub fn remove_client(&self, client_id: &str) -> Result<(), ControlError> {
        self.change(|t| {
            let before = t.clients.len();
            t.clients.retain(|c| c.client_id != client_id);
            if t.clients.len() == before {
                return Err(not_found("client", client_id));
            }
            Ok(())
        })
    }

    /// Assigns a user (login or id) to a client, or unassigns it.
    pub fn set_assignment(
        &self,
        client_id: &str,
        user: &str,
        assigned: bool,
    ) -> Result<(), ControlError> {
        self.change(|t| {
            let u = t
                .user(user)
                .cloned()
                .ok_or_else(|| not_found("user", user))?;
            let c = t
                .clients
                .iter_mut()
                .find(|c| c.client_id == client_id)
                .ok_or_else(|| not_found("client", client_id))?;
            c.assigned_users.retain(|a| *a != u.id && *a != u.login);
            if assigned {
                c.assigned_users.push(u.login.clone());
            } else if c.is_assigned(&u) {
                // Still assigned through a group: take the user out of those groups.
                let groups = c.assigned_groups.clone();
                if let Some(tu) = t.users.iter_mut().find(|x| x.id == u.id) {
                    tu.groups.retain(|g| !groups.contains(g));
                }
                if groups.iter().any(|g| g == "Everyone") {
                    if let Some(c) = t.clients.iter_mut().find(|c| c.client_id == client_id) {
                        c.assigned_groups.retain(|g| g != "Everyone");
                    }
                }
            }
            Ok(())
        })
    }

    /// Rotates the signing keys of `server` (`org` or a custom id); the old key stays
    /// published when `keep_old`. Returns the new active `kid`.
    pub fn rotate_keys(&self, server: &str, keep_old: bool) -> Result<String, ControlError> {
        if self.server(server).is_none() {
            return Err(not_found("authorization server", server));
        }
        let kid = self.with_ring(server, |r| {
            r.rotate(keep_old);
            r.active().kid().to_string()
        });
        self.prepared.keys_changed();
        Ok(kid)
    }
}

fn not_found(kind: &'static str, name: &str) -> ControlError {
    ControlError::NotFound {
        kind,
        name: name.to_string(),
    }
}
