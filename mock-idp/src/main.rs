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
    let code = mock_idp::cli::exit_code_of(|| {
        let cli = Cli::parse();
        let ran = mock_idp::cli::runtime().and_then(|rt| rt.block_on(mock_idp::cli::run(cli.idp)));
        match ran {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        }
    });
    std::process::exit(code);
}
