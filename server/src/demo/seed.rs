//! The demo tenant's shop: locations, catalog and stock created through the API on the
//! first run; each simulator's listings made from Concord's stock (with a few deliberate
//! discrepancies and unmatched listings on the first run); and each simulator connected
//! through the real onboarding path.

use std::collections::BTreeMap;

use anyhow::Context;
use concord_simulators::{Platform, RunningSim, SeedProduct};
use serde_json::{Value, json};

use super::{catalog, client::ApiClient};

/// The demo's locations: name and kind, in the order `CHANNELS` refers to them.
const LOCATIONS: [(&str, &str); 3] = [
    ("Warehouse", "warehouse"),
    ("Soho Store", "store"),
    ("Camden Store", "store"),
];

/// A SKU as the demo lists it on platforms.
struct Row {
    edition: catalog::Edition,
    /// Sellable units per demo location.
    sellable: [i64; 3],
}

/// The demo tenant, ready to list on simulators.
pub struct Shop {
    locations: [String; 3],
    rows: Vec<Row>,
}

impl Shop {
    /// Creates the locations, catalog and stock unless they exist, then reads the stock.
    pub async fn prepare(api: &ApiClient, first_run: bool) -> anyhow::Result<Self> {
        let mut existing = api.get("/locations").await?;
        if existing.as_array().is_none_or(Vec::is_empty) {
            for (name, kind) in LOCATIONS {
                api.post("/locations", json!({ "name": name, "kind": kind }))
                    .await?;
            }
            existing = api.get("/locations").await?;
        }
        let id_of = |name: &str| -> anyhow::Result<String> {
            existing
                .as_array()
                .and_then(|ls| ls.iter().find(|l| l["name"] == name))
                .and_then(|l| l["id"].as_str())
                .map(str::to_owned)
                .with_context(|| format!("the demo location {name} is missing"))
        };
        let locations = [
            id_of(LOCATIONS[0].0)?,
            id_of(LOCATIONS[1].0)?,
            id_of(LOCATIONS[2].0)?,
        ];
        let products = api.get("/products?limit=1").await?;
        if first_run || products["items"].as_array().is_none_or(Vec::is_empty) {
            create_catalog(api, &locations).await?;
        }
        let stock = sellable_by_code(api, &locations).await?;
        let editions = catalog::editions();
        let per_code: BTreeMap<&str, [i64; 3]> = editions
            .iter()
            .map(|e| {
                (
                    e.code.as_str(),
                    stock.get(&e.code).copied().unwrap_or_default(),
                )
            })
            .collect();
        let rows = editions
            .iter()
            .map(|e| {
                let sellable = if e.components.is_empty() {
                    per_code[e.code.as_str()]
                } else {
                    std::array::from_fn(|i| {
                        e.components
                            .iter()
                            .map(|c| per_code.get(c.as_str()).map_or(0, |s| s[i]))
                            .min()
                            .unwrap_or(0)
                    })
                };
                Row {
                    edition: e.clone(),
                    sellable,
                }
            })
            .collect();
        Ok(Self { locations, rows })
    }

    /// Every SKU code the demo sells.
    pub fn codes(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.edition.code.clone()).collect()
    }

    /// What a platform lists: every SKU with the stock Concord offers it; on the first run a
    /// few figures differ and a few listings match nothing, as in a real shop.
    pub fn listings(
        &self,
        platform: Platform,
        sells_from: Option<usize>,
        first_run: bool,
    ) -> Vec<SeedProduct> {
        if sells_from.is_none() {
            return Vec::new();
        }
        let mut out: Vec<SeedProduct> = self
            .rows
            .iter()
            .map(|r| {
                SeedProduct::new(
                    r.edition.code.clone(),
                    r.edition.barcode.clone(),
                    r.edition.title.clone(),
                    r.edition.price_minor,
                    "GBP",
                    r.sellable.iter().sum(),
                )
            })
            .collect();
        if first_run {
            let (skew, extra) = match platform {
                Platform::Shopify => ((2, 3), ("GIFT-25", "Gift card £25")),
                Platform::WooCommerce => ((5, -1), ("POSTER-AH", "After Hours poster")),
                Platform::Square => ((8, 2), ("BAG-TOTE", "Velvet Screen tote bag")),
                _ => ((11, 1), ("MAG-014", "Screen Scene magazine #14")),
            };
            if let Some(p) = out.get_mut(skew.0) {
                p.quantity = (p.quantity + skew.1).max(0);
            }
            out.push(SeedProduct::new(
                extra.0,
                concord_simulators::ean13(501_234_599_000 + out.len() as u64),
                extra.1,
                500,
                "GBP",
                25,
            ));
        }
        out
    }

    /// Connects `sim` as the connection named `name` (creating it if needed): every channel
    /// offers the whole shop's stock, and a store's till (`sells_from` > 0) is mapped to its
    /// store, so its sales come off that store's shelf.
    pub async fn connect(
        &self,
        api: &ApiClient,
        sim: &RunningSim,
        name: &str,
        sells_from: Option<usize>,
    ) -> anyhow::Result<()> {
        let sells = sells_from.map(|at| Channel {
            sourcing: &self.locations,
            till: self
                .locations
                .get(at)
                .filter(|_| at > 0)
                .map(String::as_str),
        });
        connect(api, sim, name, sells).await.map(drop)
    }
}

/// What a connected platform sells from.
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    /// The locations whose stock the channel offers.
    pub sourcing: &'a [String],
    /// A store whose till this is: the platform's first location is mapped to it, so its
    /// sales come off that store's shelf. `None`: sales come off the sourcing locations.
    pub till: Option<&'a str>,
}

/// Connects `sim` through the public API as a merchant would, as the connection named
/// `name` (created unless one of that platform and name exists): access by OAuth or keys,
/// webhooks registered, and, for a channel that sells (`sells`), its sourcing and location
/// set, listings matched and a first full reconcile run (only the figures that differ are
/// written then). Returns the connection's id.
pub async fn connect(
    api: &ApiClient,
    sim: &RunningSim,
    name: &str,
    sells: Option<Channel<'_>>,
) -> anyhow::Result<String> {
    let platform = sim.platform();
    let connections = api.get("/connections").await?;
    let existing = connections
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["platform"] == platform.slug() && c["name"] == name)
        })
        .and_then(|c| c["id"].as_str())
        .map(str::to_owned);
    let id = match existing {
        Some(id) => id,
        None => {
            let created = api
                .post(
                    "/connections",
                    json!({ "platform": platform.slug(), "name": name }),
                )
                .await?;
            created["id"]
                .as_str()
                .context("no connection id")?
                .to_owned()
        }
    };
    if let Some(channel) = sells {
        api.put(
            &format!("/connections/{id}/settings"),
            json!({ "safety_buffer": 0, "allocation_cap": null, "sourcing": channel.sourcing }),
        )
        .await?;
    }
    let config = sim.config();
    match platform {
        Platform::Shopify | Platform::Square | Platform::LightspeedR => {
            api.approve_oauth(&id, sim.base_url()).await?;
        }
        _ => {
            let credentials = match platform {
                Platform::WooCommerce => {
                    json!({ "api_key": config.client_id, "api_secret": config.client_secret })
                }
                _ => json!({ "access_token": sim.access_token() }),
            };
            api.put(
                &format!("/connections/{id}/access"),
                json!({ "base_url": sim.base_url(), "credentials": credentials,
                        "webhook_secret": config.webhook_secret }),
            )
            .await?;
        }
    }
    // Lightspeed Retail has no webhooks: Concord polls it.
    if platform != Platform::LightspeedR {
        api.post(&format!("/connections/{id}/webhooks"), json!({}))
            .await?;
    }
    let Some(channel) = sells else {
        return Ok(id);
    };
    if let Some(store) = channel.till {
        let platform_locations = api
            .get(&format!("/connections/{id}/platform-locations"))
            .await?;
        if let Some(first) = platform_locations[0]["id"].as_str() {
            api.put(
                &format!("/connections/{id}/location-map"),
                json!({ "location_id": store, "external_location_id": first }),
            )
            .await?;
        }
    }
    api.post(&format!("/connections/{id}/listings/sync"), json!({}))
        .await?;
    // Read what the platform shows first: only the figures that differ are written then
    // (Lightspeed allows one write per ten seconds).
    api.post(
        &format!("/connections/{id}/reconcile"),
        json!({ "full": true }),
    )
    .await?;
    Ok(id)
}

/// Creates the catalog and receives the starting stock.
async fn create_catalog(api: &ApiClient, locations: &[String; 3]) -> anyhow::Result<()> {
    let mut sku_ids: BTreeMap<String, String> = BTreeMap::new();
    for e in catalog::editions() {
        let ratings: serde_json::Map<String, Value> = e
            .ratings
            .iter()
            .map(|(system, rating)| ((*system).to_owned(), json!(rating)))
            .collect();
        let product = api
            .post(
                "/products",
                json!({ "title": e.title, "format": e.format, "studio": e.studio, "explicit": e.explicit,
                        "us_2257_statement_present": e.explicit, "classifications": ratings }),
            )
            .await?;
        let components: Vec<Value> = e
            .components
            .iter()
            .filter_map(|c| sku_ids.get(c))
            .map(|id| json!({ "sku_id": id, "quantity": 1 }))
            .collect();
        let sku = api
            .post(
                "/skus",
                json!({ "product_id": product["id"], "code": e.code, "barcode": e.barcode, "components": components }),
            )
            .await?;
        let sku_id = sku["id"].as_str().context("no SKU id")?.to_owned();
        for (location, units) in locations.iter().zip(e.stock) {
            if units > 0 && e.components.is_empty() {
                api.post(
                    &format!("/skus/{sku_id}/adjustments"),
                    json!({ "location_id": location, "reason": "receive", "quantity": units }),
                )
                .await?;
            }
        }
        sku_ids.insert(e.code, sku_id);
    }
    Ok(())
}

/// Sellable units per SKU code at each demo location, read from the inventory view.
async fn sellable_by_code(
    api: &ApiClient,
    locations: &[String; 3],
) -> anyhow::Result<BTreeMap<String, [i64; 3]>> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = api
            .get(&format!(
                "/inventory?limit=500{}",
                cursor
                    .as_deref()
                    .map(|c| format!("&cursor={c}"))
                    .unwrap_or_default()
            ))
            .await?;
        for row in page["items"].as_array().into_iter().flatten() {
            let mut sellable = [0; 3];
            for level in row["levels"].as_array().into_iter().flatten() {
                if let Some(i) = locations
                    .iter()
                    .position(|l| level["location_id"] == l.as_str())
                {
                    sellable[i] = level["sellable"].as_i64().unwrap_or_default();
                }
            }
            if let Some(code) = row["code"].as_str() {
                out.insert(code.to_owned(), sellable);
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(out),
        }
    }
}
