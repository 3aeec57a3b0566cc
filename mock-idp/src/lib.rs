//! # mock_idp: an OpenID Provider that is Okta on the wire
//!
//! A real OpenID Provider for testing relying parties: Okta's paths, discovery documents,
//! token shapes, claim order, error texts and error delivery, with RS256 keys from
//! fixtures, single-use PKCE-bound codes and strict client authentication. It binds
//! `127.0.0.1:0` by default and hands back its issuer URLs, like wiremock's `MockServer`.
//!
//! ```no_run
//! # async fn demo() {
//! use mock_idp::{Client, MockIdp, User};
//!
//! let idp = MockIdp::start().await; // the fixture tenant, on a free port
//! idp.upsert_client(Client::confidential("my-app", "s3cret", "http://127.0.0.1:3000/cb")).unwrap();
//! idp.upsert_user(User::new("erin@example.com", "pw")).unwrap();
//! let discovery = format!("{}/.well-known/openid-configuration", idp.issuer("default"));
//! // … point the relying party at idp.issuer("default"), log in, then:
//! for entry in idp.journal() {
//!     println!("{:?} {} {}", entry.endpoint, entry.status, entry.outcome);
//! }
//! # let _ = discovery;
//! # }
//! ```
//!
//! Authorization servers: the org server (`/oauth2/v1/…`, issuer = origin) and every custom
//! server of the tenant (`/oauth2/{id}/v1/…`; `default` always exists).
//!
//! Another IdP on the wire: `MockIdp::builder().personality(Personality::Entra)` (also
//! `Auth0`, `Keycloak`, `Google`, `Cognito`, `Adfs`, `Pingfederate`, `Pingone`,
//! `Generic`); [`MockIdp::endpoint_url`] gives its URLs (`docs/personalities.md`).

#![warn(missing_docs)]

pub mod cli;
pub mod clock;
pub mod control;
pub mod diag;
pub mod errors;
pub mod expiring;
pub mod faults;
pub mod flows;
pub mod footprint;
pub mod http_client;
pub mod ids;
pub mod journal;
pub mod jwt;
pub mod keys;
pub mod known;
pub mod logout;
pub mod personality;
mod routes;
pub mod schema;
pub mod scim;
pub mod secret;
mod server;
#[doc(hidden)]
pub mod state;
pub mod tenant;

pub use clock::Clock;
pub use control::ControlError;
pub use faults::{Fault, FaultId, Strikes};
pub use journal::{Endpoint, JournalEntry};
pub use personality::Personality;
pub use routes::admin::{API as ADMIN_API, Call as AdminCall, openapi as admin_openapi};
pub use secret::Secret;
pub use server::{FaultGuard, MockIdp, MockIdpBuilder, Redactor, StartError, TlsConfig};
pub use tenant::{AuthMethod, AuthorizationServer, Client, Profile, Tenant, TenantError, User};
