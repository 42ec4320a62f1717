//! `concord webhook verify`: checks a platform delivery the way the intake will, for
//! merchants debugging their webhooks. Prints `{"valid":true}` (exit 0) or
//! `{"valid":false,"reason":…}` (exit 1); usage errors exit 2.

use std::{path::PathBuf, process::ExitCode};

use clap::Args;
use concord_connectors::standard_webhooks::{self, Delivery};
use serde_json::json;

/// Every platform slug Concord knows.
pub const PLATFORMS: [&str; 22] = [
    "shopify",
    "square",
    "woocommerce",
    "lightspeed-x",
    "lightspeed-r",
    "magento",
    "clover",
    "bigcommerce",
    "revel",
    "stripe",
    "quickbooks",
    "amazon",
    "squarespace",
    "sap-cco",
    "opencart",
    "zettle",
    "toast",
    "wix",
    "prestashop",
    "netsuite",
    "dynamics365",
    "standard-webhooks",
];

/// Slugs whose scheme this build verifies.
const VERIFIABLE: [&str; 1] = ["standard-webhooks"];

/// `concord webhook verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The platform slug (e.g. `standard-webhooks`).
    #[arg(long)]
    pub platform: String,
    /// The raw body as received, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// The signing secret exactly as the platform shows it.
    #[arg(long)]
    pub secret: Option<String>,
    /// The notification URL, for schemes that sign it.
    #[arg(long)]
    pub url: Option<String>,
    /// A header as received, `Name: value`; repeat for each.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Pin the clock (seconds since 1970) for timestamped schemes.
    #[arg(long)]
    pub now: Option<i64>,
    /// The platform's public key (PEM), for schemes signed with one.
    #[arg(long, value_name = "PEM")]
    pub public_key: Option<String>,
    /// The app's client id, for schemes that need it.
    #[arg(long)]
    pub client_id: Option<String>,
}

/// Runs the check and returns the process exit code.
pub fn verify(args: &VerifyArgs) -> ExitCode {
    let slug = args.platform.trim().to_ascii_lowercase();
    if !PLATFORMS.contains(&slug.as_str()) {
        return usage(&format!(
            "unknown platform `{slug}`; known: {}",
            PLATFORMS.join(", ")
        ));
    }
    if !VERIFIABLE.contains(&slug.as_str()) {
        return usage(&format!(
            "verifying {slug} deliveries is not available in this build yet; available: {}",
            VERIFIABLE.join(", ")
        ));
    }
    let body = match std::fs::read(&args.body) {
        Ok(bytes) => bytes,
        Err(e) => return usage(&format!("cannot read {}: {e}", args.body.display())),
    };
    let mut headers = Vec::with_capacity(args.headers.len());
    for raw in &args.headers {
        match raw.split_once(':') {
            Some((name, value)) => {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            }
            None => return usage(&format!("--header `{raw}` is not `Name: value`")),
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(secret) = args.secret.as_deref() else {
        return usage("--secret is required for standard-webhooks");
    };
    let now = args.now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let delivery = Delivery {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: &body,
    };
    match standard_webhooks::verify(secret, delivery, now) {
        Ok(()) => {
            println!("{}", json!({ "valid": true }));
            ExitCode::SUCCESS
        }
        Err(reason) => {
            println!(
                "{}",
                json!({ "valid": false, "reason": reason.to_string() })
            );
            ExitCode::from(1)
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
