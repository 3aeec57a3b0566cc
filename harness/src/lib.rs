//! # harness: the conformance harness behind `oidc-harness`
//!
//! Today it carries the command line; scenarios, drivers, verdicts and reports grow here
//! (see `../shared/DESIGN.md` in the project's steering notes and `docs/`).

#![warn(missing_docs)]

pub mod cli;
