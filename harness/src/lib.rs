//! # harness: the conformance harness behind `oidc-harness`
//!
//! It logs in through a relying party (RP) as a browser would, with the mock IdP
//! misbehaving in one precise way per scenario, decides a verdict from what the RP showed
//! and what it asked the IdP, and writes reports.
//!
//! - [`scenario`]: the scenario files; [`profile`]: the RP profiles; [`outcome`]: the
//!   troubleshooting codes;
//! - [`driver`]: the HTTP driver and the browser driver (Chromium), one trait;
//! - [`runner`]: runs scenarios against one RP; [`rp`]: its process and its log;
//! - [`verdict`]: the one function that decides; [`findings`]: what the journal shows
//!   about the RP's own requests;
//! - [`oidf`]: the OpenID Foundation's RP tests and certification plans (`--plan`);
//! - [`report`]: one event stream, many sinks (terminal, JSON, JUnit, Markdown, HTML).

#![warn(missing_docs)]

pub mod catalog;
pub mod cli;
pub mod driver;
pub mod files;
pub mod findings;
pub mod oidf;
pub mod outcome;
pub mod procs;
pub mod product;
pub mod profile;
pub mod report;
pub mod rp;
pub mod runner;
pub mod scenario;
pub mod schema;
pub mod verdict;
