//! The `oidc-harness` command line.

use clap::{Parser, Subcommand};

/// Exit code: no failure.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad input (tenant, scenario or profile file; options).
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code: the harness could not run.
pub const EXIT_COULD_NOT_RUN: i32 = 3;

/// `oidc-harness`: make an IdP misbehave on purpose and see what your relying party does.
#[derive(Parser, Debug)]
#[command(name = "oidc-harness", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the mock IdP (Okta on the wire) for a tenant until Ctrl-C.
    ///
    /// Prints the issuer URLs of the org server and every custom authorization server,
    /// the journal URL, and with --tls the CA file to trust. Point a relying party at
    /// an issuer and sign in with a user of the tenant.
    Idp(mock_idp::cli::IdpArgs),
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Idp(args) => match mock_idp::cli::run(args).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        },
    }
}
