//! `mock-idp`: the mock IdP alone (the same as `oidc-harness idp`).

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "mock-idp",
    version,
    about = "An OpenID Provider that is Okta (or, with --personality, Entra ID, Auth0, Keycloak, Google, Cognito, Ping…) on the wire, for testing relying parties"
)]
struct Cli {
    #[command(flatten)]
    idp: mock_idp::cli::IdpArgs,
}

fn main() {
    let cli = Cli::parse();
    let ran = mock_idp::cli::runtime().and_then(|rt| rt.block_on(mock_idp::cli::run(cli.idp)));
    if let Err(e) = ran {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
