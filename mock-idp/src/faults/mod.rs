//! Fault injection: a catalog of named faults, armed for a user, a client or everyone,
//! for one request, n requests or until disarmed, and fired at the points where the IdP
//! would otherwise do the right thing. Several faults compose; the journal records which
//! fired on which request.

pub mod catalog;
mod strike;
pub(crate) use strike::app_claims_in;
pub(crate) mod tamper;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

pub use catalog::{CATALOG, FaultDoc, FaultId, Strikes, Style, UnknownFault, Witness};

/// A fault to arm: what, aimed at whom, how many times.
///
/// ```
/// use mock_idp::faults::{Fault, FaultId};
/// let f = Fault::new(FaultId::NonceMismatch).for_user("alice@example.com").times(1);
/// assert_eq!(f.to_string(), "nonce-mismatch:alice@example.com (1 time)");
/// let g: Fault = "idp-error=login_required:bob@example.com".parse().unwrap();
/// assert_eq!(g.param.as_deref(), Some("login_required"));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Which fault.
    pub id: FaultId,
    /// Its parameter, for the faults that take one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Aim at this user only (login or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Aim at this client only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Fire at most this many times (absent: until disarmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// Why a fault cannot be armed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// Not in the catalog.
    #[error(transparent)]
    Unknown(#[from] UnknownFault),
    /// A discovery or keys fault aimed at a user or client.
    #[error(
        "`{0}` strikes discovery or keys, which no user or client can be told apart on: arm it for everyone"
    )]
    NotScopable(FaultId),
    /// Both a user and a client given.
    #[error("a fault is aimed at a user or at a client, not both")]
    TwoTargets,
    /// The parameter is not valid.
    #[error("`{id}` takes {expected} (found `{found}`)")]
    BadParam {
        /// The fault.
        id: FaultId,
        /// What it takes.
        expected: &'static str,
        /// What was given.
        found: String,
    },
    /// The user named does not exist.
    #[error("no user `{0}` in this tenant")]
    UnknownUser(String),
    /// The client named does not exist.
    #[error("no client `{0}` in this tenant")]
    UnknownClient(String),
    /// `times = 0`.
    #[error("`times` must be at least 1 (leave it out to fire until disarmed)")]
    ZeroTimes,
}

/// OAuth errors the `idp-error` fault can send.
pub const IDP_ERRORS: [&str; 6] = [
    "access_denied",
    "login_required",
    "consent_required",
    "interaction_required",
    "temporarily_unavailable",
    "server_error",
];

impl Fault {
    /// A fault for everyone, until disarmed.
    pub fn new(id: FaultId) -> Self {
        Self {
            id,
            param: None,
            user: None,
            client: None,
            times: None,
        }
    }

    /// Aims it at one user (login or id).
    pub fn for_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Aims it at one client.
    pub fn for_client(mut self, client: impl Into<String>) -> Self {
        self.client = Some(client.into());
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Sets the parameter.
    pub fn param(mut self, p: impl Into<String>) -> Self {
        self.param = Some(p.into());
        self
    }

    /// The label in the journal: the id, with `=param` when there is one.
    pub fn label(&self) -> String {
        match &self.param {
            Some(p) => format!("{}={p}", self.id),
            None => self.id.to_string(),
        }
    }

    /// Checks the target and parameter against the catalog.
    pub fn validate(&self) -> Result<(), FaultError> {
        if self.user.is_some() && self.client.is_some() {
            return Err(FaultError::TwoTargets);
        }
        if (self.user.is_some() || self.client.is_some()) && !self.id.doc().scoped {
            return Err(FaultError::NotScopable(self.id));
        }
        if self.times == Some(0) {
            return Err(FaultError::ZeroTimes);
        }
        let bad = |expected: &'static str| FaultError::BadParam {
            id: self.id,
            expected,
            found: self.param.clone().unwrap_or_default(),
        };
        match (self.id, self.param.as_deref()) {
            (_, None) => Ok(()),
            (FaultId::IdpError, Some(p)) if IDP_ERRORS.contains(&p) => Ok(()),
            (FaultId::IdpError, _) => Err(bad(
                "one of access_denied, login_required, consent_required, interaction_required, temporarily_unavailable, server_error",
            )),
            (FaultId::TokenEndpoint5xx, Some(p))
                if p.parse::<u16>().is_ok_and(|s| (500..=599).contains(&s)) =>
            {
                Ok(())
            }
            (FaultId::TokenEndpoint5xx, _) => Err(bad("an HTTP status from 500 to 599")),
            (FaultId::TokenEndpointSlow, Some(p))
                if p.parse::<u64>().is_ok_and(|ms| ms <= 60_000) =>
            {
                Ok(())
            }
            (FaultId::TokenEndpointSlow, _) => Err(bad("a delay in milliseconds, at most 60000")),
            (
                FaultId::AudMismatch
                | FaultId::GroupsChanged
                | FaultId::KeyRotationKeepOld
                | FaultId::KeyRotationDropOld,
                Some(p),
            ) if !p.is_empty() => Ok(()),
            (id, _) if id.doc().param.is_some() => Err(bad("a non-empty value")),
            _ => Err(bad("no parameter")),
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = FaultError;

    /// `ID[=PARAM][:USER]`, as `oidc-harness idp --fault` takes it.
    fn from_str(s: &str) -> Result<Self, FaultError> {
        let (head, user) = match s.rsplit_once(':') {
            Some((h, u)) if !u.is_empty() => (h, Some(u.to_string())),
            _ => (s, None),
        };
        let (id, param) = match head.split_once('=') {
            Some((id, p)) => (id, Some(p.to_string())),
            None => (head, None),
        };
        let fault = Fault {
            id: id.parse()?,
            param,
            user,
            client: None,
            times: None,
        };
        fault.validate()?;
        Ok(fault)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())?;
        if let Some(u) = &self.user {
            write!(f, ":{u}")?;
        }
        if let Some(c) = &self.client {
            write!(f, " (client {c})")?;
        }
        match self.times {
            Some(1) => f.write_str(" (1 time)"),
            Some(n) => write!(f, " ({n} times)"),
            None => Ok(()),
        }
    }
}

/// An armed fault and how often it fired.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArmedFault {
    /// The handle to disarm it with.
    pub armed_id: u64,
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
    /// How many requests it changed.
    pub fired: u32,
}

impl ArmedFault {
    fn live(&self) -> bool {
        self.fault.times.is_none_or(|n| self.fired < n)
    }
}

/// Who a request is about, for matching targeted faults.
#[derive(Clone, Debug, Default)]
pub struct FaultCtx {
    /// The user's id.
    pub user_id: Option<String>,
    /// The user's login.
    pub login: Option<String>,
    /// The client.
    pub client_id: Option<String>,
}

impl FaultCtx {
    fn matches(&self, f: &Fault) -> bool {
        let user_ok = f.user.as_ref().is_none_or(|u| {
            self.user_id.as_deref() == Some(u.as_str())
                || self
                    .login
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(u))
        });
        let client_ok = f
            .client
            .as_ref()
            .is_none_or(|c| self.client_id.as_deref() == Some(c.as_str()));
        user_ok && client_ok
    }
}

/// The armed faults of one IdP.
#[derive(Debug, Default)]
pub struct FaultSet {
    armed: Mutex<Vec<ArmedFault>>,
    next: AtomicU64,
}

impl FaultSet {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ArmedFault>> {
        self.armed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms a (validated) fault; returns its handle.
    pub fn arm(&self, fault: Fault) -> u64 {
        let armed_id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().push(ArmedFault {
            armed_id,
            fault,
            fired: 0,
        });
        armed_id
    }

    /// Disarms one fault; false when there was none with that handle.
    pub fn disarm(&self, armed_id: u64) -> bool {
        let mut armed = self.lock();
        let before = armed.len();
        armed.retain(|a| a.armed_id != armed_id);
        armed.len() != before
    }

    /// Disarms everything.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The armed faults (spent ones included, until disarmed).
    pub fn list(&self) -> Vec<ArmedFault> {
        self.lock().clone()
    }

    /// How often the fault with this handle fired.
    pub fn fired(&self, armed_id: u64) -> Option<u32> {
        self.lock()
            .iter()
            .find(|a| a.armed_id == armed_id)
            .map(|a| a.fired)
    }

    /// Fires every live fault striking at `point` that matches `ctx` (at an untargeted
    /// point, every live fault striking there, whoever it is aimed at), counting each, and
    /// returns them in catalog order.
    pub fn take(&self, point: Strikes, ctx: &FaultCtx) -> Vec<Fault> {
        self.take_where(point, ctx, |_| true)
    }

    /// As [`FaultSet::take`], for the faults that `applies` to this answer (a fault that
    /// would change nothing here does not strike, and is not counted).
    pub fn take_where(
        &self,
        point: Strikes,
        ctx: &FaultCtx,
        applies: impl Fn(FaultId) -> bool,
    ) -> Vec<Fault> {
        let mut armed = self.lock();
        if armed.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<Fault> = Vec::new();
        for a in armed.iter_mut() {
            if a.fault.id.strikes_at(point)
                && a.live()
                && (point.untargeted() || ctx.matches(&a.fault))
                && applies(a.fault.id)
            {
                a.fired += 1;
                out.push(a.fault.clone());
            }
        }
        out.sort_by_key(|f| f.id);
        out
    }

    /// Counts one firing of the fault with this handle (key rotation, which acts when armed).
    pub(crate) fn count(&self, armed_id: u64) {
        if let Some(a) = self.lock().iter_mut().find(|a| a.armed_id == armed_id) {
            a.fired += 1;
        }
    }

    /// Whether any live fault strikes at `point` (for anyone): when none does, an
    /// endpoint serves its prepared answer.
    pub fn any_at(&self, point: Strikes) -> bool {
        let armed = self.lock();
        !armed.is_empty()
            && armed
                .iter()
                .any(|a| a.live() && a.fault.id.strikes_at(point))
    }

    /// Whether a live fault with this id is armed, for anyone (not counted as firing).
    pub fn is_armed(&self, id: FaultId) -> bool {
        self.lock().iter().any(|a| a.fault.id == id && a.live())
    }
}
