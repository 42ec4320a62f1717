//! `concord webhook verify|parse`: checks a platform delivery the way the intake does and
//! prints what it says, for merchants debugging their webhooks. `verify` prints
//! `{"valid":true}` (exit 0) or `{"valid":false,"reason":…}` (exit 1); `parse` prints
//! `{"events":[…]}`; usage errors exit 2.

use std::{collections::HashMap, path::PathBuf, process::ExitCode};

use clap::Args;
use concord_connectors::{Delivery, Keys, Platform, Rejection};
use serde_json::{json, value::RawValue};

/// What every `concord webhook` command reads: the platform and the delivery.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// The platform slug (`shopify`, `square`, … `standard-webhooks`).
    #[arg(long)]
    pub platform: String,
    /// The raw body as received, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// A header as received, `Name: value`; repeat for each.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
}

/// `concord webhook verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    delivery: DeliveryArgs,
    /// The signing secret exactly as the platform shows it to the merchant.
    #[arg(long)]
    pub secret: Option<String>,
    /// The notification URL, for schemes that sign it.
    #[arg(long)]
    pub url: Option<String>,
    /// Pin the clock (seconds since 1970) for timestamped schemes.
    #[arg(long)]
    pub now: Option<i64>,
    /// The platform's public key: PEM text or a PEM file.
    #[arg(long, value_name = "PEM")]
    pub public_key: Option<String>,
    /// The app's client id, for schemes that bind deliveries to it.
    #[arg(long)]
    pub client_id: Option<String>,
}

/// `concord webhook parse` arguments.
#[derive(Debug, Args)]
pub struct ParseArgs {
    #[command(flatten)]
    delivery: DeliveryArgs,
    /// Parse only this part of the body (RFC 6901, e.g. `/body`); a string found there is
    /// taken as the raw body.
    #[arg(long, value_name = "PTR")]
    pub json_pointer: Option<String>,
}

/// A delivery read from the command line.
struct Loaded {
    platform: Platform,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl DeliveryArgs {
    fn load(&self) -> Result<Loaded, String> {
        let platform: Platform = self.platform.parse().map_err(|e| format!("{e}"))?;
        let body = std::fs::read(&self.body)
            .map_err(|e| format!("cannot read {}: {e}", self.body.display()))?;
        let headers = self
            .headers
            .iter()
            .map(|raw| match raw.split_once(':') {
                Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
                None => Err(format!("--header `{raw}` is not `Name: value`")),
            })
            .collect::<Result<_, _>>()?;
        Ok(Loaded {
            platform,
            body,
            headers,
        })
    }
}

/// Runs `concord webhook verify` and returns the process exit code.
pub fn verify(args: &VerifyArgs) -> ExitCode {
    let loaded = match args.delivery.load() {
        Ok(loaded) => loaded,
        Err(message) => return usage(&message),
    };
    let public_key = match args.public_key.as_deref().map(read_pem).transpose() {
        Ok(pem) => pem,
        Err(message) => return usage(&message),
    };
    let delivery = Delivery {
        body: &loaded.body,
        headers: &loaded.headers,
        url: args.url.as_deref(),
    };
    let keys = Keys {
        secret: args.secret.as_deref(),
        public_key_pem: public_key.as_deref(),
        client_id: args.client_id.as_deref(),
    };
    let now = args.now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    match concord_connectors::verify(loaded.platform, &delivery, &keys, now) {
        Ok(()) => {
            println!("{}", json!({ "valid": true }));
            ExitCode::SUCCESS
        }
        Err(Rejection::MissingKey(what)) => usage(&format!(
            "{} deliveries are checked with a {what}: pass --{}",
            loaded.platform,
            what.replace(' ', "-")
        )),
        Err(Rejection::MissingUrl) => usage(&format!(
            "{} signs the notification URL: pass --url exactly as configured on the platform",
            loaded.platform
        )),
        Err(reason) => {
            println!(
                "{}",
                json!({ "valid": false, "reason": reason.to_string() })
            );
            ExitCode::from(1)
        }
    }
}

/// Runs `concord webhook parse` and returns the process exit code.
pub fn parse(args: &ParseArgs) -> ExitCode {
    let mut loaded = match args.delivery.load() {
        Ok(loaded) => loaded,
        Err(message) => return usage(&message),
    };
    if let Some(pointer) = args.json_pointer.as_deref() {
        match select(&loaded.body, pointer) {
            Ok(selected) => loaded.body = selected,
            Err(message) => return usage(&message),
        }
    }
    let delivery = Delivery {
        body: &loaded.body,
        headers: &loaded.headers,
        url: None,
    };
    match concord_connectors::parse(loaded.platform, &delivery) {
        Ok(events) => {
            println!("{}", json!({ "events": events }));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", json!({ "events": [], "error": e.to_string() }));
            ExitCode::from(1)
        }
    }
}

/// The bytes at `pointer` in the JSON `body`, exactly as written there (a string's value
/// when a string is found, so a raw body kept as a string is parsed as the body).
fn select(body: &[u8], pointer: &str) -> Result<Vec<u8>, String> {
    let not_json = |e: serde_json::Error| format!("the body is not JSON: {e}");
    let mut current: &RawValue = serde_json::from_slice(body).map_err(not_json)?;
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!("--json-pointer `{pointer}` must start with `/`"));
    }
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let missing = || format!("nothing at `{pointer}` in the body");
        current = if current.get().trim_start().starts_with('[') {
            let items: Vec<&RawValue> = serde_json::from_str(current.get()).map_err(not_json)?;
            let index: usize = token.parse().map_err(|_| missing())?;
            items.get(index).copied().ok_or_else(missing)?
        } else {
            let fields: HashMap<String, &RawValue> =
                serde_json::from_str(current.get()).map_err(|_| missing())?;
            fields.get(&token).copied().ok_or_else(missing)?
        };
    }
    let text = current.get();
    if text.starts_with('"') {
        let value: String = serde_json::from_str(text).map_err(not_json)?;
        Ok(value.into_bytes())
    } else {
        Ok(text.as_bytes().to_vec())
    }
}

/// PEM text given inline, or read from the file it names.
fn read_pem(value: &str) -> Result<String, String> {
    if value.trim_start().starts_with("-----BEGIN") {
        Ok(value.to_owned())
    } else {
        std::fs::read_to_string(value)
            .map_err(|e| format!("--public-key is neither PEM text nor a readable file: {e}"))
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_select_raw_text_and_unwrap_strings() {
        let body = br#"{"a":{"b~c":[1, {"price": 19.990}]},"raw":"{\"x\":1}"}"#;
        assert_eq!(
            select(body, "/a/b~0c/1").expect("found"),
            br#"{"price": 19.990}"#
        );
        assert_eq!(select(body, "/raw").expect("found"), br#"{"x":1}"#);
        assert_eq!(select(body, "").expect("whole"), body);
        assert!(select(body, "/a/missing").is_err());
        assert!(select(body, "/a/b~0c/9").is_err());
        assert!(select(body, "a").is_err());
        assert!(select(b"not json", "/a").is_err());
    }
}
