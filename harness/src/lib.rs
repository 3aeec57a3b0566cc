//! # harness: the conformance harness behind `oidc-harness`
//!
//! It logs in through a relying party (RP) as a browser would, with the mock IdP
//! misbehaving in one precise way per scenario, decides a verdict from what the RP showed
//! and what it asked the IdP, and writes reports.
//!
//! - [`scenario`]: the scenario files; [`profile`]: the RP profiles;
//! - [`driver`]: the HTTP driver; [`browser`]: the browser driver (Chromium);
//! - [`runner`]: runs scenarios against one RP; [`verdict`]: judging and findings;
//! - [`report`]: one event stream, many sinks (terminal, JSON, JUnit, Markdown, HTML).

#![warn(missing_docs)]

pub mod browser;
pub mod cli;
pub mod driver;
pub mod files;
pub mod profile;
pub mod report;
pub mod rp;
pub mod runner;
pub mod scenario;
pub mod verdict;
