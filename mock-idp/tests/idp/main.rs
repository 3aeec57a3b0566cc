//! Integration tests of the mock IdP over real sockets (and in-process where faster).

mod common;
mod openid_client;
mod flows;
mod errors;
mod snapshots;
mod props;
mod tenant_files;
mod admin;
