//! The drivers that play the browser: [`http::HttpDriver`] (reqwest, every redirect
//! followed by hand) and [`chromium::ChromiumDriver`] (Debian's Chromium through
//! ChromeDriver, for RPs that need JavaScript). Both implement [`Driver`], so a scenario
//! is played by the same code whichever drives it.

pub mod chromium;
pub mod http;

use std::future::Future;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// At most this many requests in one navigation.
pub const MAX_HOPS: usize = 25;

/// Who answered a hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The relying party.
    Rp,
    /// The mock IdP.
    Idp,
    /// Anything else.
    Other,
}

/// One request the browser made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// Who it went to.
    pub to: Party,
    /// `GET` or `POST`.
    pub method: String,
    /// The URL, codes and tokens redacted.
    pub url: String,
    /// The answer's status (0: no answer).
    pub status: u16,
    /// Where it redirected, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Names of the cookies it set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies_set: Vec<String>,
    /// What the driver did or noticed (sign-in submitted, cookies dropped, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The page the browser ended on.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// Status.
    pub status: u16,
    /// URL (not redacted: the caller redacts what it keeps).
    pub url: String,
    /// Body text.
    pub body: String,
}

/// Why a navigation did not end on a page.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DriverError {
    /// A request got no answer.
    #[error("{url}: no answer: {reason}")]
    Unreachable {
        /// Redacted URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// More redirects than a login takes.
    #[error("more than {MAX_HOPS} hops without reaching a page")]
    TooManyHops,
    /// The IdP's sign-in form came back after credentials were sent.
    #[error("the IdP refused the credentials")]
    SignInRefused,
    /// This driver cannot do that.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// A login as the driver played it.
#[derive(Clone, Debug, Default)]
pub struct Login {
    /// The page it ended on.
    pub page: Page,
    /// With `lose_rp_cookies`: how many of the RP's cookies were dropped before the
    /// callback (`None`: the login never came back from the IdP to the RP).
    pub cookies_dropped: Option<usize>,
}

/// What plays the browser in a scenario.
pub trait Driver: Send {
    /// Logs in from `start` (the IdP's sign-in form filled in on the way) and returns the
    /// page the RP settles on; with `lose_rp_cookies`, drops the RP's cookies between
    /// authorize and callback.
    fn login(
        &mut self,
        start: &str,
        user: &str,
        password: &str,
        lose_rp_cookies: bool,
    ) -> impl Future<Output = Result<Login, DriverError>> + Send;

    /// A plain navigation (logout), following redirects.
    fn visit(&mut self, url: &str) -> impl Future<Output = Result<Page, DriverError>> + Send;

    /// Visits `url` in another tab (signing out at the IdP elsewhere), closes it, and
    /// watches this tab's page for up to `watch` until it changes (an RP that watches
    /// the IdP session reacts): the page then. `None` when the driver runs no scripts,
    /// so nothing on a page can react.
    fn elsewhere(
        &mut self,
        url: &str,
        watch: std::time::Duration,
    ) -> impl Future<Output = Result<Option<Page>, DriverError>> + Send;

    /// Sends the last login's callback again from a fresh browser (no cookies): `None`
    /// when that login never reached the callback.
    fn replay_callback(&mut self)
    -> impl Future<Output = Result<Option<Page>, DriverError>> + Send;

    /// Every request seen so far, redacted.
    fn hops(&self) -> &[Hop];

    /// A PNG of the current page, when the driver renders pages.
    fn screenshot(&self) -> impl Future<Output = Option<Vec<u8>>> + Send;
}

/// HTML entities back to text.
pub(crate) fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#64;", "@")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Visible text of a page, for excerpts: tags dropped, white space folded.
pub fn text_of(html: &str) -> String {
    let no_tags = Regex::new(r"(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]+>")
        .map(|r| r.replace_all(html, " ").into_owned())
        .unwrap_or_default();
    unescape(&no_tags)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
