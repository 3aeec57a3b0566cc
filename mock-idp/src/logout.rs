//! Ending an IdP session and telling the relying parties: back-channel logout tokens
//! (OpenID Connect Back-Channel Logout 1.0) POSTed by the IdP itself, and the front-channel
//! logout URLs (Front-Channel Logout 1.0) its logout page loads in iframes.
//!
//! Both `/v1/logout` (RP-initiated) and `/login/signout` (the user signing out of the IdP
//! itself, OP-initiated) end the browser's session here. Every RP the session signed in
//! to that registered a channel is told; each back-channel POST is journaled as an
//! entry of its own (`backchannel_logout`, the status the RP answered), so a harness can
//! prove the token reached the RP and read what it answered.

use std::time::Duration;

use serde_json::Value;

use crate::faults::{Fault, FaultId, Strikes};
use crate::ids::random_b64;
use crate::journal::{Endpoint, JournalEntry};
use crate::jwt::{self, Claims};
use crate::state::{Session, Shared, lock};

/// The `events` member of a logout token (Back-Channel Logout 1.0 2.4).
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is valid (Back-Channel Logout 1.0 2.4 recommends two minutes
/// or less).
const LOGOUT_TOKEN_TTL: i64 = 120;

/// The name of the OP browser state cookie (Session Management 1.0 3), beside the session
/// cookie `session`.
pub fn opbs_cookie(session: &str) -> String {
    format!("{session}_opbs")
}

/// The `Set-Cookie` values of a browser's IdP session: the session cookie (secret,
/// HttpOnly) and, once a client of the tenant uses Session Management 1.0, the OP browser
/// state cookie (section 3: the public `sid`, readable by the check-session iframe's
/// script). `Some((cookie value, sid))` sets them, `None` expires them.
pub fn session_cookies(shared: &Shared, set: Option<(&str, &str)>) -> Vec<axum::http::HeaderValue> {
    let secure = if shared.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let (session, state, age) = match set {
        Some((key, sid)) => (key, sid, ""),
        None => ("", "", "; Max-Age=0"),
    };
    let mut out = vec![format!(
        "{}={session}; Path=/; HttpOnly; SameSite=Lax{age}{secure}",
        shared.cookie_name
    )];
    if shared.personality.session_management() && shared.tenant().watches_sessions() {
        out.push(format!(
            "{}={state}; Path=/; SameSite=Lax{age}{secure}",
            opbs_cookie(&shared.cookie_name)
        ));
    }
    out.into_iter()
        .filter_map(|c| axum::http::HeaderValue::from_str(&c).ok())
        .collect()
}

/// `session_state` for a client at the origin of `redirect_uri` (Session Management 1.0
/// 3): `base64url(SHA-256(client_id " " origin " " opbs " " salt)) "." salt`, which the
/// check-session iframe recomputes from the browser state cookie.
pub fn session_state(client_id: &str, redirect_uri: &str, opbs: &str) -> String {
    let origin = url::Url::parse(redirect_uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let salt = random_b64(8);
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{client_id} {origin} {opbs} {salt}").as_bytes(),
    );
    format!(
        "{}.{salt}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            digest.as_ref()
        )
    )
}

/// How many (client, user) pairs' last logout token `jti` the IdP keeps.
const MAX_JTIS: usize = 4096;

/// How long the IdP waits for an RP's answer to a back-channel POST.
const BACKCHANNEL_TIMEOUT: Duration = Duration::from_secs(5);

/// A logout token on its way to one RP.
pub struct Delivery {
    /// The RP's `backchannel_logout_uri`.
    pub uri: String,
    /// The token.
    pub token: String,
    /// Its journal entry, recorded once the RP answered.
    pub entry: JournalEntry,
}

/// What ending a session sends: back-channel tokens, and front-channel URLs for the
/// logout page's iframes.
#[derive(Default)]
pub struct Notices {
    /// Logout tokens to POST.
    pub backchannel: Vec<Delivery>,
    /// URLs for iframes, with `iss` and `sid`.
    pub frontchannel: Vec<String>,
}

impl Shared {
    /// Records that the session under cookie `key` signed in to `client` of `server`;
    /// returns the session's public `sid`.
    pub fn session_joined(&self, key: &str, server: &str, client: &str) -> Option<String> {
        let mut sessions = lock(&self.sessions);
        let mut s = sessions.get_mut(key)?;
        let pair = (server.to_string(), client.to_string());
        if !s.clients.contains(&pair) {
            s.clients.push(pair);
        }
        Some(s.sid.clone())
    }

    /// Ends the session under cookie `key`; what it was.
    pub fn end_session(&self, key: &str) -> Option<Session> {
        lock(&self.sessions).remove(key)
    }

    /// The notices for an ended session, with the faults aimed at each RP applied. The
    /// front-channel faults are recorded on `page` (the logout page's entry).
    pub fn logout_notices(&self, session: &Session, page: &mut JournalEntry) -> Notices {
        let mut out = Notices::default();
        for (server, client_id) in &session.clients {
            let (Some(srv), Some(client)) = (self.server(server), self.client(client_id)) else {
                continue;
            };
            let ctx = self.fault_ctx(Some(&session.user_id), Some(client_id));
            let front = client
                .frontchannel_logout_uri
                .as_ref()
                .filter(|_| self.personality.frontchannel_logout());
            if let Some(uri) = front {
                let faults = self.fire(Strikes::FrontchannelLogout, &ctx, page);
                let has = |id| faults.iter().any(|f: &Fault| f.id == id);
                let iss = if has(FaultId::FrontchannelIssOther) {
                    crate::faults::tamper::other_issuer(self, &srv)
                } else {
                    srv.issuer.clone()
                };
                let sid = if has(FaultId::FrontchannelSidOther) {
                    random_b64(16)
                } else {
                    session.sid.clone()
                };
                if let Ok(mut u) = url::Url::parse(uri) {
                    u.query_pairs_mut()
                        .append_pair("iss", &iss)
                        .append_pair("sid", &sid);
                    out.frontchannel.push(u.into());
                }
            }
            let Some(uri) = client
                .backchannel_logout_uri
                .as_ref()
                .filter(|_| self.personality.backchannel_logout())
            else {
                continue;
            };
            let mut entry = JournalEntry {
                at: self.clock.now(),
                server: srv.id.clone(),
                endpoint: Some(Endpoint::BackchannelLogout),
                method: "POST".into(),
                client_id: Some(client_id.clone()),
                user_id: Some(session.user_id.clone()),
                redirect_uri: Some(uri.clone()),
                ..JournalEntry::default()
            };
            // A jti can only be replayed once one was sent (to this client, about this user).
            let jti_key = format!("{client_id} {}", session.user_id);
            let previous = lock(&self.logout_jtis).get(&jti_key).cloned();
            let faults = self.fire_where(Strikes::LogoutToken, &ctx, &mut entry, |id| {
                id != FaultId::LogoutTokenJtiReplayed || previous.is_some()
            });
            let has = |id| faults.iter().any(|f: &Fault| f.id == id);
            let now = self.clock.now();
            let mut c = Claims::new();
            let iss = if has(FaultId::LogoutTokenIssOther) {
                crate::faults::tamper::other_issuer(self, &srv)
            } else {
                srv.issuer.clone()
            };
            c.insert("iss".into(), iss.into());
            if !has(FaultId::LogoutTokenSidOnly) {
                c.insert(
                    "sub".into(),
                    self.subject_of(&session.user_id, client_id).into(),
                );
            }
            let aud = if has(FaultId::LogoutTokenAudOther) {
                format!("0oa{}", random_b64(12))
            } else {
                client_id.clone()
            };
            c.insert("aud".into(), aud.into());
            let (iat, exp) = if has(FaultId::LogoutTokenExpired) {
                (now - 3600, now - 3600 + LOGOUT_TOKEN_TTL)
            } else {
                (now, now + LOGOUT_TOKEN_TTL)
            };
            c.insert("iat".into(), iat.into());
            c.insert("exp".into(), exp.into());
            let jti = previous
                .filter(|_| has(FaultId::LogoutTokenJtiReplayed))
                .unwrap_or_else(|| crate::ids::jti("LT"));
            {
                let mut jtis = lock(&self.logout_jtis);
                // Bounded: a replay needs only the last few users' jtis.
                if jtis.len() >= MAX_JTIS {
                    jtis.clear();
                }
                jtis.insert(jti_key, jti.clone());
            }
            c.insert("jti".into(), jti.into());
            if !has(FaultId::LogoutTokenEventsMissing) {
                let event = if has(FaultId::LogoutTokenEventOther) {
                    "http://schemas.openid.net/event/frontchannel-logout"
                } else {
                    BACKCHANNEL_EVENT
                };
                let mut events = Claims::new();
                events.insert(event.into(), Value::Object(Claims::new()));
                c.insert("events".into(), Value::Object(events));
            }
            if !has(FaultId::LogoutTokenSubOnly) {
                let sid = if has(FaultId::LogoutTokenSidUnknown) {
                    random_b64(16)
                } else {
                    session.sid.clone()
                };
                c.insert("sid".into(), sid.into());
            }
            if has(FaultId::LogoutTokenNonce) {
                c.insert("nonce".into(), random_b64(16).into());
            }
            let secret = client
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_string());
            let token = self.sign_logout_token(&srv.id, &faults, &c, secret.as_deref());
            self.known.remember("logout_token", &token);
            entry.id_token = jwt::decode_unverified(&token).map(|(h, p)| jwt::shown(h, p));
            out.backchannel.push(Delivery {
                uri: uri.clone(),
                token,
                entry,
            });
        }
        out
    }

    /// Signs a logout token (`typ` `logout+jwt`), or fails to, as a fault says.
    fn sign_logout_token(
        &self,
        server: &str,
        faults: &[Fault],
        claims: &Claims,
        secret: Option<&str>,
    ) -> String {
        let key = self.signing_key(server);
        let has = |id| faults.iter().any(|f| f.id == id);
        let header = |alg: &str, kid: bool| {
            let mut h = Claims::new();
            if kid {
                h.insert("kid".into(), key.kid().into());
            }
            h.insert("typ".into(), "logout+jwt".into());
            h.insert("alg".into(), alg.into());
            h
        };
        if has(FaultId::LogoutTokenAlgNone) {
            return format!("{}.", jwt::signing_input(&header("none", false), claims));
        }
        if has(FaultId::LogoutTokenHs256) {
            // An HMAC keyed with the client's own secret (or, for a public client, a random
            // one): a correct MAC, under an algorithm the RP never agreed to.
            let input = jwt::signing_input(&header("HS256", false), claims);
            let random = random_b64(32);
            let k = aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                secret.unwrap_or(&random).as_bytes(),
            );
            let tag = aws_lc_rs::hmac::sign(&k, input.as_bytes());
            return format!(
                "{input}.{}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    tag.as_ref()
                )
            );
        }
        let token = jwt::sign_rs256(&header("RS256", true), claims, &key);
        if has(FaultId::LogoutTokenBadSignature) {
            crate::faults::tamper::corrupt(&token)
        } else {
            token
        }
    }
}

/// POSTs each logout token (`application/x-www-form-urlencoded`, `logout_token=…`) and
/// journals the RP's answer: `ok` for 200 or 204 (Back-Channel Logout 1.0 2.8), the
/// status otherwise, `unreachable` with status 0 when no answer came.
pub async fn deliver(shared: &Shared, deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
    let http = crate::http_client::build(
        reqwest::Client::builder()
            .timeout(BACKCHANNEL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none()),
        None,
    );
    for mut d in deliveries {
        let answer = match &http {
            Ok(http) => http
                .post(&d.uri)
                .header("cache-control", "no-cache, no-store")
                .form(&[("logout_token", d.token.as_str())])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        d.entry.at = shared.clock.now();
        match answer {
            Ok(status) => {
                d.entry.status = status;
                d.entry.outcome = if matches!(status, 200 | 204) {
                    "ok".into()
                } else {
                    format!("rp_answered_{status}")
                };
            }
            Err(e) => {
                d.entry.status = 0;
                d.entry.outcome = "unreachable".into();
                d.entry.detail = Some(e);
            }
        }
        shared.journal.record(d.entry);
    }
}
