//! The whole data path against the platforms' simulators over real HTTP: a sale on one
//! platform reaches Concord by its signed webhook and lowers the offer written to every
//! other platform; a manual edit on a platform is told apart from the echo of Concord's own
//! writes; a missed webhook is caught by polling; a reconcile repairs a drifted figure.

use std::{net::TcpListener, time::Duration};

use actix_web::http::{Method, StatusCode};
use concord_server::{app::app, worker};
use concord_simulators::{Platform, RunningSim, SeedProduct, SimConfig, Simulator};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::harness::{Account, TestApp, str_at};

/// Concord serving webhooks on a real port, its worker running, and simulators.
struct Live {
    app: TestApp,
    owner: Account,
    stop: CancellationToken,
    base: String,
    sku_id: String,
    warehouse_id: String,
    port: u16,
    http: reqwest::Client,
}

impl Live {
    async fn start() -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let test_app = TestApp::spawn_with(&format!(
            "public_url = \"http://127.0.0.1:{port}\"\npoll_interval_secs = 1\n"
        ))
        .await;
        let state = test_app.state.clone();
        let server = actix_web::HttpServer::new(move || app(state.clone()))
            .listen(listener)
            .expect("listen")
            .workers(1)
            .disable_signals()
            .run();
        actix_web::rt::spawn(server);
        let app = test_app;
        let stop = CancellationToken::new();
        tokio::spawn(worker::run(app.state.clone(), stop.clone()));
        let owner = app.signup("owner@sync.test", "Sync Video").await;
        let base = format!("/api/v1/tenants/{}", owner.tenant_id);
        let warehouse = app
            .post(
                &format!("{base}/locations"),
                json!({ "name": "Warehouse", "kind": "warehouse" }),
                Some(&owner),
            )
            .await;
        let product = app
            .post(
                &format!("{base}/products"),
                json!({ "title": "Midnight Velvet", "format": "dvd", "studio": "Crimson Reel", "explicit": true,
                        "us_2257_statement_present": true, "classifications": { "bbfc": "R18" } }),
                Some(&owner),
            )
            .await;
        let sku = app
            .post(
                &format!("{base}/skus"),
                json!({ "product_id": str_at(&product.body, "/id"), "code": "MV-DVD", "barcode": "5012345678900" }),
                Some(&owner),
            )
            .await;
        assert_eq!(sku.status, StatusCode::CREATED, "{}", sku.text);
        let live = Self {
            sku_id: str_at(&sku.body, "/id"),
            warehouse_id: str_at(&warehouse.body, "/id"),
            app,
            owner,
            stop,
            base,
            port,
            http: reqwest::Client::new(),
        };
        let received = live
            .app
            .post(
                &format!("{}/skus/{}/adjustments", live.base, live.sku_id),
                json!({ "location_id": live.warehouse_id, "reason": "receive", "quantity": 10 }),
                Some(&live.owner),
            )
            .await;
        assert_eq!(received.status, StatusCode::CREATED, "{}", received.text);
        live
    }

    /// A simulator of `platform` listing MV-DVD (by SKU, or only by barcode), connected to
    /// Concord through the API, its webhooks pointed at Concord.
    async fn connect(&self, platform: Platform, listed_stock: i64) -> (RunningSim, String) {
        let mut config = SimConfig::new(platform);
        config.seed = vec![SeedProduct::new(
            "MV-DVD",
            "5012345678900",
            "Midnight Velvet",
            1999,
            "USD",
            listed_stock,
        )];
        config.time_scale = 0.001;
        let sim = Simulator::start(config).expect("simulator");
        let created = self
            .app
            .post(
                &format!("{}/connections", self.base),
                json!({ "platform": platform.slug(), "name": format!("{platform} shop") }),
                Some(&self.owner),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = str_at(&created.body, "/id");
        let settings = self
            .app
            .send(
                Method::PUT,
                &format!("{}/connections/{id}/settings", self.base),
                Some(json!({ "safety_buffer": 0, "allocation_cap": null, "sourcing": [self.warehouse_id] })),
                Some(&self.owner),
            )
            .await;
        assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
        let info = sim.info();
        let credentials = match platform {
            Platform::WooCommerce => {
                json!({ "api_key": sim.config().client_id, "api_secret": sim.config().client_secret })
            }
            _ => {
                json!({ "access_token": sim.access_token(), "account_id": info.get("account_id") })
            }
        };
        let access = self
            .app
            .send(
                Method::PUT,
                &format!("{}/connections/{id}/access", self.base),
                Some(
                    json!({ "base_url": sim.base_url(), "credentials": credentials,
                             "webhook_secret": sim.config().webhook_secret }),
                ),
                Some(&self.owner),
            )
            .await;
        assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);
        let report = self
            .app
            .post(
                &format!("{}/connections/{id}/listings/sync", self.base),
                json!({}),
                Some(&self.owner),
            )
            .await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.text);
        assert_eq!(report.body["matched_by_sku"], 1, "{}", report.text);
        sim.set_webhook_url(Some(format!(
            "http://127.0.0.1:{}/webhooks/{}/{id}",
            self.port,
            platform.slug()
        )));
        (sim, id)
    }

    async fn stock(&self, sim: &RunningSim) -> i64 {
        let found: Value = self
            .http
            .get(format!("{}/_sim/stock?sku=MV-DVD", sim.base_url()))
            .send()
            .await
            .expect("stock")
            .json()
            .await
            .expect("json");
        found["quantity"].as_i64().expect("quantity")
    }

    /// Waits until every simulator shows `expected`, or fails after ten seconds.
    async fn settle(&self, sims: &[&RunningSim], expected: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut shown = Vec::new();
            for sim in sims {
                shown.push((sim.platform(), self.stock(sim).await));
            }
            if shown.iter().all(|(_, q)| *q == expected) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let ledger = self
                    .app
                    .get(
                        &format!("{}/skus/{}/movements", self.base, self.sku_id),
                        Some(&self.owner),
                    )
                    .await;
                let offers = self
                    .app
                    .get(
                        &format!("{}/inventory?q=MV-DVD", self.base),
                        Some(&self.owner),
                    )
                    .await;
                let stats: Vec<_> = sims.iter().map(|s| (s.platform(), s.stats())).collect();
                panic!(
                    "expected {expected} everywhere, got {shown:?}\nledger: {}\noffers: {}\nstats: {stats:?}",
                    ledger.text, offers.text
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn on_hand(&self) -> i64 {
        let rows = self
            .app
            .get(
                &format!("{}/inventory?q=MV-DVD", self.base),
                Some(&self.owner),
            )
            .await;
        rows.body["items"][0]["on_hand"].as_i64().expect("on hand")
    }

    async fn movements(&self) -> usize {
        let found = self
            .app
            .get(
                &format!("{}/skus/{}/movements", self.base, self.sku_id),
                Some(&self.owner),
            )
            .await;
        found.body["items"].as_array().map_or(0, Vec::len)
    }

    async fn post_sim(&self, sim: &RunningSim, path: &str, body: Value) -> Value {
        let reply = self
            .http
            .post(format!("{}{path}", sim.base_url()))
            .json(&body)
            .send()
            .await
            .expect("control");
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.expect("json")
    }

    async fn finish(self) {
        self.stop.cancel();
        self.app.cleanup().await;
    }
}

#[actix_web::test]
async fn a_sale_on_one_platform_reaches_every_other_and_edits_are_told_from_echoes() {
    let live = Live::start().await;
    let (shopify, _) = live.connect(Platform::Shopify, 10).await;
    let (square, _) = live.connect(Platform::Square, 7).await;
    let (woo, _) = live.connect(Platform::WooCommerce, 3).await;
    // The first pushes bring every platform to Concord's figure.
    live.settle(&[&shopify, &square, &woo], 10).await;

    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 2 }),
    )
    .await;
    live.settle(&[&shopify, &square, &woo], 8).await;

    // A merchant counts 12 on Square: Concord takes the +4 and writes 12 everywhere.
    live.post_sim(
        &square,
        "/_sim/adjust",
        json!({ "sku": "MV-DVD", "quantity": 12 }),
    )
    .await;
    live.settle(&[&shopify, &square, &woo], 12).await;
    // 10 received and 4 found on Square; the 2 sold are committed until shipped.
    assert_eq!(live.on_hand().await, 14);

    // Echoes of Concord's own writes (each platform announces the figure written) change
    // nothing, once judged after the settle delay: no movement, the figures stay put.
    let movements = live.movements().await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    live.settle(&[&shopify, &square, &woo], 12).await;
    assert_eq!(live.movements().await, movements);
    let woo_writes = woo.stats().writes;
    live.post_sim(
        &woo,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 1 }),
    )
    .await;
    live.settle(&[&shopify, &square, &woo], 11).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        woo.stats().writes,
        woo_writes,
        "no write back to the platform that sold: it already shows 11"
    );
    live.finish().await;
}
