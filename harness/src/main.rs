//! `oidc-harness`: parses the command line and hands over to the `harness` library.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = harness::cli::Cli::parse();
    std::process::exit(harness::cli::run(cli).await);
}
