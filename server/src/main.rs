//! The `concord` binary.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    match concord_server::cli::Cli::parse().run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
