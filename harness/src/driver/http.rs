//! The HTTP driver: plays the browser through a login. Redirects are followed one at a
//! time and every hop recorded; form_post pages are submitted, with the `Origin` a
//! browser sends (`null` from a sandboxed page) and without the `SameSite=Lax` cookies a
//! browser keeps back from a cross-site POST; the IdP's sign-in form is filled in. Hops
//! and time are bounded. Cookies are kept in a jar of its own, as a browser does (by
//! host, not port), so the user-agent faults can drop exactly the RP's. It cannot play a
//! fragment response (a browser never sends the fragment; the RP's page reads it).

use std::time::Duration;

use regex::Regex;
use url::Url;

use super::{Driver, DriverError, Hop, Login, MAX_HOPS, Page, Party, unescape};
use crate::report::redact;

#[derive(Clone, Debug)]
struct Cookie {
    host: String,
    name: String,
    value: String,
    path: String,
    set_by: Party,
    /// `SameSite` as set (`lax`, `strict`, `none`), absent when not given.
    same_site: Option<String>,
}

/// What a POST carries about where it comes from, as a browser sends it.
#[derive(Clone, Debug, Default)]
struct Initiator {
    /// The `Origin` header (`null` from an opaque origin).
    origin: Option<String>,
    /// The POST crosses sites (or comes from an opaque origin): cookies set with
    /// `SameSite=Lax` or `Strict` stay behind.
    cross_site: bool,
}

/// One answer.
struct Answer {
    status: u16,
    location: Option<Url>,
    body: String,
    /// The page is sandboxed (CSP `sandbox` without `allow-same-origin`): its origin is
    /// opaque.
    sandboxed: bool,
}

/// A browser's notion of a site: scheme and host (ports do not count).
fn site(u: &Url) -> (String, String) {
    (
        u.scheme().to_string(),
        u.host_str().unwrap_or_default().to_string(),
    )
}

/// The RP callback of a login (URL, and the form of a form_post), kept for a replay.
type Callback = (Url, Option<Vec<(String, String)>>);

/// A browser with a cookie jar and a recorded history.
pub struct HttpDriver {
    client: reqwest::Client,
    jar: Vec<Cookie>,
    /// Every hop so far.
    pub hops: Vec<Hop>,
    /// The IdP's origins (a personality may spread its endpoints over several hosts).
    idp_origins: Vec<String>,
    rp_origins: Vec<String>,
    secrets: Vec<String>,
    /// The callback of the last login, for a replay.
    last_callback: Option<Callback>,
}

impl HttpDriver {
    /// A browser for one scenario. `rp_origins` are the RP's origins (from its login and
    /// redirect URLs); `secrets` are redacted wherever they would be recorded.
    pub fn new(
        idp_origins: &[String],
        rp_origins: Vec<String>,
        ca_pem: Option<&str>,
        secrets: Vec<String>,
    ) -> Result<Self, String> {
        let client = mock_idp::http_client::build(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                .user_agent("oidc-harness (HTTP driver)"),
            ca_pem,
        )?;
        Ok(Self {
            client,
            jar: Vec::new(),
            hops: Vec::new(),
            idp_origins: idp_origins.to_vec(),
            rp_origins,
            secrets,
            last_callback: None,
        })
    }

    fn party(&self, url: &Url) -> Party {
        let origin = url.origin().ascii_serialization();
        if self.idp_origins.contains(&origin) {
            Party::Idp
        } else if self.rp_origins.contains(&origin) {
            Party::Rp
        } else {
            Party::Other
        }
    }

    fn cookie_header(&self, url: &Url, cross_site: bool) -> Option<String> {
        let host = url.host_str()?;
        let path = url.path();
        let pairs: Vec<String> = self
            .jar
            .iter()
            .filter(|c| c.host == host && path.starts_with(&c.path))
            // A cross-site POST carries no cookie set Lax or Strict; one without the
            // attribute is sent while fresh (Chrome's "Lax+POST", two minutes), which a
            // login's cookie is.
            .filter(|c| !cross_site || !matches!(c.same_site.as_deref(), Some("lax" | "strict")))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn store_cookies(
        &mut self,
        url: &Url,
        headers: &reqwest::header::HeaderMap,
        party: Party,
    ) -> Vec<String> {
        let host = url.host_str().unwrap_or_default().to_string();
        let mut names = Vec::new();
        for v in headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let mut parts = v.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.trim().split_once('=')) else {
                continue;
            };
            let mut path = "/".to_string();
            let mut expired = false;
            let mut same_site = None;
            for attr in parts {
                let attr = attr.trim();
                let lower = attr.to_ascii_lowercase();
                if let Some(p) = lower.strip_prefix("path=") {
                    path = attr[5..5 + p.len()].to_string();
                } else if lower == "max-age=0" || lower.starts_with("max-age=-") {
                    expired = true;
                } else if let Some(v) = lower.strip_prefix("samesite=") {
                    same_site = Some(v.trim().to_string());
                }
            }
            self.jar
                .retain(|c| !(c.host == host && c.name == name && c.path == path));
            if !expired {
                self.jar.push(Cookie {
                    host: host.clone(),
                    name: name.to_string(),
                    value: value.to_string(),
                    path,
                    set_by: party,
                    same_site,
                });
            }
            names.push(name.to_string());
        }
        names
    }

    /// Forgets the cookies the RP set.
    pub fn drop_rp_cookies(&mut self) -> usize {
        let before = self.jar.len();
        self.jar.retain(|c| c.set_by != Party::Rp);
        before - self.jar.len()
    }

    fn redact(&self, s: &str) -> String {
        redact::text(&redact::url(s), &self.secrets)
    }

    /// One request, recorded.
    async fn request(
        &mut self,
        method: &str,
        url: &Url,
        form: Option<&[(String, String)]>,
        note: Option<String>,
        from: &Initiator,
    ) -> Result<Answer, DriverError> {
        let party = self.party(url);
        let mut req = match form {
            Some(f) => self.client.post(url.clone()).form(f),
            None => self.client.get(url.clone()),
        };
        if let Some(c) = self.cookie_header(url, from.cross_site) {
            req = req.header(reqwest::header::COOKIE, c);
        }
        if let Some(o) = &from.origin {
            req = req.header(reqwest::header::ORIGIN, o);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let red = self.redact(url.as_str());
                let reason = e.without_url().to_string();
                self.hops.push(Hop {
                    to: party,
                    method: method.into(),
                    url: red.clone(),
                    status: 0,
                    location: None,
                    cookies_set: vec![],
                    note: Some(format!("no answer: {reason}")),
                });
                return Err(DriverError::Unreachable { url: red, reason });
            }
        };
        let status = resp.status().as_u16();
        let cookies_set = self.store_cookies(url, resp.headers(), party);
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok())
            .filter(|_| (300..400).contains(&status));
        let sandboxed = resp
            .headers()
            .get_all(reqwest::header::CONTENT_SECURITY_POLICY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|d| {
                let d = d.trim().to_ascii_lowercase();
                d.starts_with("sandbox") && !d.contains("allow-same-origin")
            });
        let body = resp.text().await.unwrap_or_default();
        let red_url = self.redact(url.as_str());
        let red_loc = location.as_ref().map(|l| self.redact(l.as_str()));
        self.hops.push(Hop {
            to: party,
            method: method.into(),
            url: red_url,
            status,
            location: red_loc,
            cookies_set,
            note,
        });
        Ok(Answer {
            status,
            location,
            body,
            sandboxed,
        })
    }

    /// Navigates from `start` until a page that is neither a redirect, a form_post page
    /// nor the IdP's sign-in form; signs in as `user` on the way; with `lose_rp_cookies`,
    /// drops the RP's cookies before the IdP's answer reaches it.
    pub async fn login(
        &mut self,
        start: &str,
        user: &str,
        password: &str,
        lose_rp_cookies: bool,
    ) -> Result<Login, DriverError> {
        let mut url = Url::parse(start).map_err(|e| DriverError::Unreachable {
            url: start.into(),
            reason: e.to_string(),
        })?;
        let mut form: Option<Vec<(String, String)>> = None;
        let mut signed_in = false;
        let mut callback: Option<Callback> = None;
        let mut dropped = None;
        let mut note = None;
        let mut sent_from = Initiator::default();
        for _ in 0..MAX_HOPS {
            let method = if form.is_some() { "POST" } else { "GET" };
            let from = self.party(&url);
            let Answer {
                status,
                location,
                body,
                sandboxed,
            } = self
                .request(method, &url, form.as_deref(), note.take(), &sent_from)
                .await?;
            sent_from = Initiator::default();
            if let Some(next) = location {
                if from == Party::Idp && self.party(&next) == Party::Rp {
                    callback = Some((next.clone(), None));
                    if lose_rp_cookies {
                        let n = self.drop_rp_cookies();
                        dropped = Some(n);
                        note = Some(format!(
                            "user agent dropped {n} RP cookie(s) before the callback"
                        ));
                    }
                }
                url = next;
                form = None;
                continue;
            }
            if self.party(&url) == Party::Idp && body.contains("id=\"okta-signin-username\"") {
                if signed_in {
                    return Err(DriverError::SignInRefused);
                }
                let token = input_value(&body, "stateToken").unwrap_or_default();
                url = url.join("/signin").map_err(|e| DriverError::Unreachable {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?;
                form = Some(vec![
                    ("stateToken".into(), token),
                    ("username".into(), user.into()),
                    ("password".into(), password.into()),
                ]);
                note = Some(format!("signed in as {user}"));
                sent_from = Initiator {
                    origin: Some(url.origin().ascii_serialization()),
                    cross_site: false,
                };
                signed_in = true;
                continue;
            }
            if let Some((action, fields)) = auto_submit_form(&body) {
                let target = url.join(&action).map_err(|e| DriverError::Unreachable {
                    url: action.clone(),
                    reason: e.to_string(),
                })?;
                if self.party(&url) == Party::Idp && self.party(&target) == Party::Rp {
                    callback = Some((target.clone(), Some(fields.clone())));
                    if lose_rp_cookies {
                        let n = self.drop_rp_cookies();
                        dropped = Some(n);
                        note = Some(format!(
                            "user agent dropped {n} RP cookie(s) before the callback"
                        ));
                    }
                }
                // The browser's Origin: the page's, or `null` from a sandboxed page.
                sent_from = Initiator {
                    origin: Some(if sandboxed {
                        "null".to_string()
                    } else {
                        url.origin().ascii_serialization()
                    }),
                    cross_site: sandboxed || site(&url) != site(&target),
                };
                let what = if sandboxed {
                    "form_post submitted from a sandboxed page (Origin: null)"
                } else {
                    "form_post submitted"
                };
                note = Some(note.map_or(what.into(), |n| format!("{n}; {what}")));
                url = target;
                form = Some(fields);
                continue;
            }
            self.last_callback = callback;
            return Ok(Login {
                page: Page {
                    status,
                    url: url.to_string(),
                    body,
                },
                cookies_dropped: dropped,
            });
        }
        Err(DriverError::TooManyHops)
    }

    /// Sends the callback again from a fresh browser (no cookies): a callback URL stolen
    /// and replayed elsewhere must not log anyone in.
    async fn replay(
        &mut self,
        url: Url,
        fields: Option<Vec<(String, String)>>,
    ) -> Result<Page, DriverError> {
        self.jar.clear();
        let mut a = self
            .request(
                if fields.is_some() { "POST" } else { "GET" },
                &url,
                fields.as_deref(),
                Some("user agent replayed the callback from a fresh browser".into()),
                &Initiator::default(),
            )
            .await?;
        let mut here = url;
        for _ in 0..MAX_HOPS {
            let Some(next) = a.location.take() else {
                return Ok(Page {
                    status: a.status,
                    url: here.to_string(),
                    body: a.body,
                });
            };
            a = self
                .request("GET", &next, None, None, &Initiator::default())
                .await?;
            here = next;
        }
        Err(DriverError::TooManyHops)
    }

    /// A plain GET navigation (logout, a protected page), following redirects; as a
    /// browser, it loads a page's iframes (the IdP's front-channel logout page) and follows
    /// a `<meta http-equiv="refresh">` once they have loaded.
    pub async fn visit(&mut self, start: &str) -> Result<Page, DriverError> {
        let mut url = Url::parse(start).map_err(|e| DriverError::Unreachable {
            url: start.into(),
            reason: e.to_string(),
        })?;
        let mut hops = 0;
        while hops < MAX_HOPS {
            hops += 1;
            let a = self
                .request("GET", &url, None, None, &Initiator::default())
                .await?;
            if let Some(next) = a.location {
                url = next;
                continue;
            }
            for src in iframes(&a.body) {
                let Ok(mut frame) = url.join(&src) else {
                    continue;
                };
                // A frame follows its own redirects; what it shows stays in it.
                while hops < MAX_HOPS {
                    hops += 1;
                    let f = self
                        .request(
                            "GET",
                            &frame,
                            None,
                            Some("iframe".into()),
                            &Initiator::default(),
                        )
                        .await?;
                    match f.location {
                        Some(next) => frame = next,
                        None => break,
                    }
                }
            }
            match meta_refresh(&a.body).and_then(|t| url.join(&t).ok()) {
                Some(next) => url = next,
                None => {
                    return Ok(Page {
                        status: a.status,
                        url: url.to_string(),
                        body: a.body,
                    });
                }
            }
        }
        Err(DriverError::TooManyHops)
    }
}

/// The `src` of each `<iframe>` of a page.
fn iframes(html: &str) -> Vec<String> {
    let Ok(re) = Regex::new(r#"<iframe[^>]*\ssrc="([^"]*)""#) else {
        return Vec::new();
    };
    re.captures_iter(html).map(|c| unescape(&c[1])).collect()
}

/// Where a `<meta http-equiv="refresh" content="N;url=…">` sends the page.
fn meta_refresh(html: &str) -> Option<String> {
    let re =
        Regex::new(r#"(?i)<meta\s+http-equiv="refresh"\s+content="\d+\s*;\s*url=([^"]*)""#).ok()?;
    re.captures(html).map(|c| unescape(&c[1]))
}

fn input_value(html: &str, name: &str) -> Option<String> {
    let re = Regex::new(&format!(
        r#"name="{}"\s+value="([^"]*)""#,
        regex::escape(name)
    ))
    .ok()?;
    re.captures(html).map(|c| unescape(&c[1]))
}

/// A page that submits itself (OAuth form_post): its action and hidden fields.
fn auto_submit_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    if !html.contains("document.forms[0].submit()") {
        return None;
    }
    let action = Regex::new(r#"<form[^>]*action="([^"]*)""#)
        .ok()?
        .captures(html)
        .map(|c| unescape(&c[1]))?;
    let fields = Regex::new(r#"<input type="hidden" name="([^"]*)" value="([^"]*)""#)
        .ok()?
        .captures_iter(html)
        .map(|c| (unescape(&c[1]), unescape(&c[2])))
        .collect();
    Some((action, fields))
}

impl Driver for HttpDriver {
    async fn login(
        &mut self,
        start: &str,
        user: &str,
        password: &str,
        lose_rp_cookies: bool,
    ) -> Result<Login, DriverError> {
        HttpDriver::login(self, start, user, password, lose_rp_cookies).await
    }

    async fn visit(&mut self, url: &str) -> Result<Page, DriverError> {
        HttpDriver::visit(self, url).await
    }

    async fn elsewhere(
        &mut self,
        url: &str,
        _watch: std::time::Duration,
    ) -> Result<Option<Page>, DriverError> {
        // Same cookie jar, no page that could react.
        HttpDriver::visit(self, url).await.map(|_| None)
    }

    async fn replay_callback(&mut self) -> Result<Option<Page>, DriverError> {
        match self.last_callback.take() {
            Some((url, fields)) => self.replay(url, fields).await.map(Some),
            None => Ok(None),
        }
    }

    fn hops(&self) -> &[Hop] {
        &self.hops
    }

    async fn screenshot(&self) -> Option<Vec<u8>> {
        None
    }
}
