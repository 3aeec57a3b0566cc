//! `oidc-harness`: parses the command line and hands over to the `harness` library.

use clap::Parser;

fn main() {
    let code = mock_idp::cli::exit_code_of(|| {
        let cli = harness::cli::Cli::parse();
        match mock_idp::cli::runtime() {
            Ok(rt) => rt.block_on(harness::cli::run(cli)),
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        }
    });
    std::process::exit(code);
}
