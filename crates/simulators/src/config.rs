//! What a simulator is started with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Platform;

/// The platforms that have a simulator.
pub const SIMULATED: [Platform; 5] = [
    Platform::Shopify,
    Platform::Square,
    Platform::WooCommerce,
    Platform::LightspeedR,
    Platform::Stripe,
];

/// Everything a simulator needs to start. [`SimConfig::new`] fills in working defaults;
/// change the fields you care about.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Which platform to behave like (one of [`SIMULATED`]).
    pub platform: Platform,
    /// The TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where webhooks go (one subscription to every topic the simulator sends); `None`
    /// sends none. Changeable at run time.
    pub webhook_url: Option<String>,
    /// The key deliveries are signed with: Shopify's app client secret, Square's
    /// subscription signature key, WooCommerce's webhook secret, Stripe's `whsec_…`.
    pub webhook_secret: String,
    /// The OAuth client id (WooCommerce: the REST consumer key `ck_…`).
    pub client_id: String,
    /// The OAuth client secret (WooCommerce: the REST consumer secret `cs_…`).
    pub client_secret: String,
    /// A credential that is valid from the start and never expires, as if the app were
    /// already installed: Shopify's `X-Shopify-Access-Token`, the Bearer token of Square and
    /// Lightspeed, Stripe's secret key `sk_test_…`. WooCommerce uses the consumer key pair.
    pub access_token: String,
    /// The catalog the shop starts with.
    pub seed: Vec<SeedProduct>,
    /// Location (store, warehouse) names; the first is the default for sales and stock.
    /// WooCommerce core has no locations and keeps only the first.
    pub locations: Vec<String>,
    /// The shop's currency, used where a platform reports one per shop or location.
    pub currency: String,
    /// Multiplier for the platform's own delays (webhook retries, asynchronous delivery):
    /// 1.0 is real time, 0.001 turns an hour into 3.6 seconds.
    pub time_scale: f64,
    /// Overrides the platform's real rate limit (bucket size and refill per second).
    pub rate_limit: Option<RateLimit>,
    /// Whether a sale may take stock below zero (the platform's "continue selling when out
    /// of stock"); off by default, so an out-of-stock sale is refused.
    pub allow_negative_stock: bool,
    /// The id of the first order (and its lines, payments and refunds); later ones count on.
    /// A simulator restarted against the same Concord data passes a higher value, as a
    /// platform never reuses ids.
    pub first_id: u64,
    /// HTTP worker threads.
    pub workers: usize,
}

impl SimConfig {
    /// A configuration with working defaults for `platform`: one location, no products,
    /// no webhook URL, real time, the platform's real rate limit.
    pub fn new(platform: Platform) -> Self {
        let access_token = match platform {
            Platform::Stripe => "sk_test_concordsimulator0000000000",
            Platform::Shopify => "shpat_concordsimulator000000000000",
            _ => "concord-simulator-access-token",
        };
        let (client_id, client_secret) = match platform {
            Platform::WooCommerce => (
                "ck_concordsimulator00000000000000000000000",
                "cs_concordsimulator00000000000000000000000",
            ),
            _ => ("concord-sim-client", "concord-sim-client-secret"),
        };
        let webhook_secret = match platform {
            Platform::Stripe => "whsec_concordsimulator",
            // Shopify signs an app's webhooks with the app's client secret.
            Platform::Shopify => "concord-sim-client-secret",
            _ => "concord-sim-webhook-secret",
        };
        Self {
            platform,
            port: 0,
            webhook_url: None,
            webhook_secret: webhook_secret.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            access_token: access_token.to_owned(),
            seed: Vec::new(),
            locations: vec!["Main Store".to_owned()],
            currency: "USD".to_owned(),
            time_scale: 1.0,
            rate_limit: None,
            allow_negative_stock: false,
            first_id: 1,
            workers: 2,
        }
    }
}

/// One product (a single-variant title: one SKU) in the starting catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedProduct {
    /// The SKU, unique in the shop.
    pub sku: String,
    /// The barcode (UPC/EAN); may be empty.
    #[serde(default)]
    pub barcode: String,
    /// The title.
    pub title: String,
    /// The price in minor units (cents).
    pub price_minor: i64,
    /// The ISO 4217 currency of the price.
    pub currency: String,
    /// Units in stock at the first location.
    pub quantity: i64,
    /// Units at other locations, by location name (the first location's figure is
    /// `quantity` unless named here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub at_locations: BTreeMap<String, i64>,
    /// The title of the product this SKU is one variant of: SKUs naming the same parent are
    /// the variations of one variable product on WooCommerce; the other simulators list
    /// each SKU on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What tells this variant from its siblings (`Blu-ray`), shown as its attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl SeedProduct {
    /// A product with `quantity` units at the first location.
    pub fn new(
        sku: impl Into<String>,
        barcode: impl Into<String>,
        title: impl Into<String>,
        price_minor: i64,
        currency: impl Into<String>,
        quantity: i64,
    ) -> Self {
        Self {
            sku: sku.into(),
            barcode: barcode.into(),
            title: title.into(),
            price_minor,
            currency: currency.into(),
            quantity,
            at_locations: BTreeMap::new(),
            parent: None,
            variant: None,
        }
    }

    /// This SKU as the `variant` (`Blu-ray`) of the variable product titled `parent`.
    pub fn variant_of(mut self, parent: impl Into<String>, variant: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self.variant = Some(variant.into());
        self
    }
}

/// A leaky-bucket limit: `capacity` units, refilled (or drained) at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Bucket size (Shopify: cost points; Lightspeed: request units; others: requests).
    pub capacity: f64,
    /// Units restored per second.
    pub per_second: f64,
}

/// A demo catalog of `count` DVD and Blu-ray titles with valid EAN-13 barcodes, prices from
/// 9.99 to 29.99 in `currency`, and 5 to 24 units each; the same every time. The first
/// title comes on DVD and Blu-ray, the two variants of one product (a variable product on
/// WooCommerce).
pub fn demo_catalog(count: usize, currency: &str) -> Vec<SeedProduct> {
    const FIRST: [&str; 12] = [
        "Midnight", "Silver", "Crimson", "Northern", "Velvet", "Electric", "Hidden", "Golden",
        "Lonely", "Broken", "Savage", "Quiet",
    ];
    const SECOND: [&str; 12] = [
        "Harbour", "Highway", "Orchid", "Lights", "Frontier", "Garden", "Signal", "Empire",
        "River", "Mirror", "Summer", "Machine",
    ];
    // The first title's Blu-ray twin takes one of the `count` places.
    let twin = count > 1;
    let mut catalog: Vec<SeedProduct> = (0..count - usize::from(twin))
        .map(|i| {
            let n = i as u64 + 1;
            let title = format!(
                "{} {}{}",
                FIRST[i % FIRST.len()],
                SECOND[(i / FIRST.len()) % SECOND.len()],
                match i / (FIRST.len() * SECOND.len()) {
                    0 => String::new(),
                    k => format!(" {}", k + 1),
                }
            );
            let format = if i % 3 == 2 { "BR" } else { "DVD" };
            let medium = if format == "BR" { "Blu-ray" } else { "DVD" };
            let seed = SeedProduct::new(
                format!("{format}-{n:05}"),
                ean13(5_012_345_000_000 + n),
                format!("{title} ({medium})"),
                999 + (n as i64 * 500) % 2000,
                currency,
                5 + (n as i64 * 7) % 20,
            );
            if i == 0 && twin {
                seed.variant_of(title, medium)
            } else {
                seed
            }
        })
        .collect();
    if twin {
        let twin = SeedProduct::new(
            "BR-00000",
            ean13(5_012_345_000_000),
            format!("{} {} (Blu-ray)", FIRST[0], SECOND[0]),
            2499,
            currency,
            4,
        )
        .variant_of(format!("{} {}", FIRST[0], SECOND[0]), "Blu-ray");
        catalog.insert(1, twin);
    }
    catalog
}

/// `twelve` (its last 12 digits) with the EAN-13 check digit appended.
pub fn ean13(twelve: u64) -> String {
    let digits = format!("{:012}", twelve % 1_000_000_000_000);
    let check = concord_domain::barcode::check_digit(&digits);
    format!("{digits}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalog_is_stable_with_valid_barcodes() {
        let catalog = demo_catalog(200, "GBP");
        assert_eq!(catalog.len(), 200);
        let skus: std::collections::HashSet<_> = catalog.iter().map(|p| &p.sku).collect();
        assert_eq!(skus.len(), 200);
        assert_eq!(ean13(400_638_133_393), "4006381333931");
        assert!(
            catalog
                .iter()
                .all(|p| p.barcode.len() == 13 && p.price_minor >= 999)
        );
        assert_eq!(demo_catalog(3, "GBP"), demo_catalog(3, "GBP"));
        let variants: Vec<&SeedProduct> = catalog.iter().filter(|p| p.parent.is_some()).collect();
        assert_eq!(variants.len(), 2, "one title on DVD and Blu-ray");
        assert!(
            variants
                .iter()
                .all(|p| p.parent.as_deref() == Some("Midnight Harbour"))
        );
    }
}
