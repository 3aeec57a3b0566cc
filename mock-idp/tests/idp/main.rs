//! Integration tests of the mock IdP over real sockets (and in-process where faster).

mod admin;
mod common;
mod errors;
mod fault_arming;
mod fault_cases;
mod fault_isolation;
mod faults_doc;
mod flows;
mod hardening;
mod logout;
mod openid_client;
mod personalities;
mod props;
mod reference_validator;
mod scim;
mod snapshots;
mod tenant_files;
