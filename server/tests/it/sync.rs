//! The whole data path against the platforms' simulators over real HTTP: a sale on one
//! platform reaches Concord by its signed webhook and lowers the offer written to every
//! other platform; a manual edit on a platform is told apart from the echo of Concord's own
//! writes; a missed webhook is caught by polling; a reconcile repairs a drifted figure.

use std::{net::TcpListener, time::Duration};

use actix_web::http::{Method, StatusCode};
use concord_server::{app::app, worker};
use concord_simulators::{Faults, Platform, RunningSim, SeedProduct, SimConfig, Simulator};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::harness::{Account, Reply, TestApp, str_at};

/// Concord serving webhooks on a real port, its worker running, and simulators.
pub(crate) struct Live {
    pub(crate) app: TestApp,
    pub(crate) owner: Account,
    stop: CancellationToken,
    pub(crate) base: String,
    pub(crate) sku_id: String,
    pub(crate) warehouse_id: String,
    pub(crate) port: u16,
    pub(crate) http: reqwest::Client,
}

impl Live {
    /// Starts a full reconcile of a connection through the API; its job once finished.
    async fn full_reconcile(&self, connection_id: &str) -> Value {
        let started = self
            .app
            .post(
                &format!("{}/connections/{connection_id}/reconcile", self.base),
                json!({ "full": true }),
                Some(&self.owner),
            )
            .await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
        assert_eq!(started.body["kind"], "full_reconcile");
        let job_id = str_at(&started.body, "/id");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let jobs = self
                .app
                .get(&format!("{}/jobs", self.base), Some(&self.owner))
                .await;
            let job = jobs
                .body
                .as_array()
                .and_then(|all| all.iter().find(|j| j["id"] == job_id.as_str()).cloned());
            match job {
                Some(job) if job["status"] != "running" => return job,
                _ if tokio::time::Instant::now() > deadline => {
                    panic!("the job did not finish: {}", jobs.text)
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub(crate) async fn start() -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut toml =
            format!("public_url = \"http://127.0.0.1:{port}\"\npoll_interval_secs = 1\n");
        for platform in ["shopify", "square", "lightspeed-r"] {
            toml.push_str(&format!(
                "[oauth_apps.{platform}]\nclient_id = \"concord-sim-client\"\nclient_secret = \"concord-sim-client-secret\"\n"
            ));
        }
        let test_app = TestApp::spawn_with(&toml).await;
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

    /// A new connection of `platform`, selling from the warehouse when `sells`.
    pub(crate) async fn new_connection(
        &self,
        platform: Platform,
        name: &str,
        sells: bool,
    ) -> String {
        let created = self
            .app
            .post(
                &format!("{}/connections", self.base),
                json!({ "platform": platform.slug(), "name": name }),
                Some(&self.owner),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = str_at(&created.body, "/id");
        if sells {
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
        }
        id
    }

    /// A simulator of `platform` listing MV-DVD, connected to Concord through the API:
    /// access, listings matched, webhooks registered on the platform by Concord.
    pub(crate) async fn connect(
        &self,
        platform: Platform,
        listed_stock: i64,
    ) -> (RunningSim, String) {
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
        let id = self
            .new_connection(platform, &format!("{platform} shop"), true)
            .await;
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
        // Concord subscribes itself on the platform, which signs with the secret it holds.
        let hooks = self
            .app
            .post(
                &format!("{}/connections/{id}/webhooks", self.base),
                json!({}),
                Some(&self.owner),
            )
            .await;
        assert_eq!(hooks.status, StatusCode::CREATED, "{}", hooks.text);
        assert_eq!(
            str_at(&hooks.body, "/url"),
            format!(
                "http://127.0.0.1:{}/webhooks/{}/{id}",
                self.port,
                platform.slug()
            )
        );
        (sim, id)
    }

    pub(crate) async fn stock(&self, sim: &RunningSim) -> i64 {
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
    pub(crate) async fn settle(&self, sims: &[&RunningSim], expected: i64) {
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

    pub(crate) async fn on_hand(&self) -> i64 {
        let rows = self
            .app
            .get(
                &format!("{}/inventory?q=MV-DVD", self.base),
                Some(&self.owner),
            )
            .await;
        rows.body["items"][0]["on_hand"].as_i64().expect("on hand")
    }

    pub(crate) async fn movements(&self) -> usize {
        let found = self
            .app
            .get(
                &format!("{}/skus/{}/movements", self.base, self.sku_id),
                Some(&self.owner),
            )
            .await;
        found.body["items"].as_array().map_or(0, Vec::len)
    }

    pub(crate) async fn post_sim(&self, sim: &RunningSim, path: &str, body: Value) -> Value {
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

    /// Stops the worker, as if it had died.
    pub(crate) fn stop_worker(&mut self) {
        self.stop.cancel();
    }

    /// Reads a connection's listings and matches them to the catalog, as the API does.
    pub(crate) async fn sync_listings(&self, connection_id: &str) -> Reply {
        self.app
            .post(
                &format!("{}/connections/{connection_id}/listings/sync", self.base),
                json!({}),
                Some(&self.owner),
            )
            .await
    }

    /// Starts a worker again.
    pub(crate) fn start_worker(&mut self) {
        self.stop = CancellationToken::new();
        tokio::spawn(worker::run(self.app.state.clone(), self.stop.clone()));
    }

    pub(crate) async fn finish(self) {
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

#[actix_web::test]
async fn a_sale_whose_webhook_is_lost_is_caught_by_polling() {
    let live = Live::start().await;
    let (shopify, _) = live.connect(Platform::Shopify, 12).await;
    let (woo, _) = live.connect(Platform::WooCommerce, 11).await;
    live.settle(&[&shopify, &woo], 10).await;
    // WooCommerce never retries a failed delivery; here it does not even send one.
    woo.set_faults(Faults {
        drop_webhooks: true,
        ..Faults::default()
    });
    live.post_sim(
        &woo,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 3 }),
    )
    .await;
    assert_eq!(live.stock(&woo).await, 7);
    live.settle(&[&shopify, &woo], 7).await;
    assert!(
        woo.stats().webhooks_dropped > 0,
        "the delivery really was lost"
    );
    live.finish().await;
}

#[actix_web::test]
async fn a_rate_limit_storm_holds_writes_back_and_they_land_once_it_passes() {
    let live = Live::start().await;
    let (shopify, _) = live.connect(Platform::Shopify, 12).await;
    let (square, square_id) = live.connect(Platform::Square, 11).await;
    live.settle(&[&shopify, &square], 10).await;
    square.set_faults(Faults {
        storm_429: true,
        ..Faults::default()
    });
    for _ in 0..5 {
        live.post_sim(
            &shopify,
            "/_sim/sale",
            json!({ "sku": "MV-DVD", "quantity": 1 }),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = square.stats();
    // Each 429 pauses the connection's bucket for the platform's Retry-After: in three
    // seconds of storm Concord knocks a handful of times, not once per sale or per pass.
    assert!(during.throttled >= 1, "the storm was met: {during:?}");
    assert!(
        during.throttled <= 6,
        "the bucket held writes back: {during:?}"
    );
    // The held-back write says why (read until the worker has knocked, however busy the
    // machine is).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let offers = live
            .app
            .get(
                &format!("{}/inventory?q=MV-DVD", live.base),
                Some(&live.owner),
            )
            .await;
        let square_offer = offers.body["items"][0]["availability"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|a| a["connection_id"] == square_id.as_str())
                    .cloned()
            })
            .expect("Square's offer");
        if square_offer["push_error"]
            .as_str()
            .is_some_and(|e| e.contains("rate limited"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the held-back write says why: {square_offer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    square.set_faults(Faults::default());
    live.settle(&[&shopify, &square], 5).await;
    let after = square.stats();
    assert!(
        after.writes - during.writes <= 2,
        "five sales became at most two writes of the latest figure: {after:?}"
    );
    live.finish().await;
}

#[actix_web::test]
async fn a_full_reconcile_finds_an_unannounced_edit_and_reports_it() {
    // WooCommerce lists stock per product; Shopify's query must stay within its cost ceiling.
    for platform in [Platform::WooCommerce, Platform::Shopify] {
        let live = Live::start().await;
        let (other, _) = live.connect(Platform::Square, 12).await;
        let (edited, edited_id) = live.connect(platform, 11).await;
        live.settle(&[&other, &edited], 10).await;
        // A merchant edits the platform while its webhooks are lost: only a reconcile can know.
        edited.set_faults(Faults {
            drop_webhooks: true,
            ..Faults::default()
        });
        live.post_sim(
            &edited,
            "/_sim/adjust",
            json!({ "sku": "MV-DVD", "quantity": 16 }),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(live.stock(&other).await, 10, "nothing announced the edit");
        let job = live.full_reconcile(&edited_id).await;
        assert_eq!(job["status"], "done", "{platform}: {job}");
        assert_eq!(job["done"], 1, "{platform}: {job}");
        assert_eq!(job["total"], 1, "{platform}: {job}");
        assert_eq!(job["report"]["checked"], 1, "{platform}: {job}");
        assert_eq!(job["report"]["edits_applied"], 1, "{platform}: {job}");
        live.settle(&[&other, &edited], 16).await;
        assert_eq!(live.on_hand().await, 16);
        live.finish().await;
    }
}

impl Live {
    /// Connects `platform` through its OAuth approval page, as a merchant's browser would:
    /// Concord's authorize URL, the platform's redirect to the callback, Concord's redirect
    /// to the dashboard.
    pub(crate) async fn connect_by_oauth(&self, sim: &RunningSim) -> String {
        let platform = sim.platform();
        let id = self
            .new_connection(platform, &format!("{platform} by OAuth"), true)
            .await;
        let started = self
            .app
            .post(
                &format!("{}/connections/{id}/oauth", self.base),
                json!({ "base_url": sim.base_url() }),
                Some(&self.owner),
            )
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let approved = browser
            .get(str_at(&started.body, "/authorize_url"))
            .send()
            .await
            .expect("authorize");
        assert!(approved.status().is_redirection(), "{}", approved.status());
        let callback = approved.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        assert!(
            callback.starts_with(&format!("http://127.0.0.1:{}/oauth/callback?", self.port)),
            "{callback}"
        );
        let landed = browser.get(&callback).send().await.expect("callback");
        assert_eq!(
            landed.status().as_u16(),
            303,
            "{}",
            landed.text().await.unwrap_or_default()
        );
        assert_eq!(
            landed.headers()["location"].to_str().expect("location"),
            format!("/connections/{id}?connected=1")
        );
        // The state is spent: replaying the callback is refused.
        let replay = browser.get(&callback).send().await.expect("replay");
        assert_eq!(replay.status().as_u16(), 400);
        id
    }
}

#[actix_web::test]
async fn accounts_connected_by_oauth_sync_and_refresh_their_rotating_tokens() {
    let live = Live::start().await;
    for platform in [Platform::Shopify, Platform::Square, Platform::LightspeedR] {
        let mut config = SimConfig::new(platform);
        config.seed = vec![SeedProduct::new(
            "MV-DVD",
            "5012345678900",
            "Midnight Velvet",
            1999,
            "USD",
            4,
        )];
        let sim = Simulator::start(config).expect("simulator");
        let id = live.connect_by_oauth(&sim).await;
        let report = live.sync_listings(&id).await;
        assert_eq!(report.status, StatusCode::OK, "{platform}: {}", report.text);
        assert_eq!(
            report.body["matched_by_sku"], 1,
            "{platform}: {}",
            report.text
        );
        live.settle(&[&sim], 10).await;
        // The platform ages the token: the next write is refused, Concord refreshes
        // (spending the rotating refresh token once) and writes again.
        live.post_sim(&sim, "/_sim/expire_tokens", json!({})).await;
        let adjusted = live
            .app
            .post(
                &format!("{}/skus/{}/adjustments", live.base, live.sku_id),
                json!({ "location_id": live.warehouse_id, "reason": "receive", "quantity": 1 }),
                Some(&live.owner),
            )
            .await;
        assert_eq!(adjusted.status, StatusCode::CREATED, "{}", adjusted.text);
        live.settle(&[&sim], 11).await;
        // Back to 10 for the next platform.
        live.app
            .post(
                &format!("{}/skus/{}/adjustments", live.base, live.sku_id),
                json!({ "location_id": live.warehouse_id, "reason": "count", "quantity": 10 }),
                Some(&live.owner),
            )
            .await;
        live.settle(&[&sim], 10).await;
    }
    live.finish().await;
}

#[actix_web::test]
async fn concord_reconcile_runs_a_full_reconcile_from_the_command_line() {
    let mut live = Live::start().await;
    let (shopify, _) = live.connect(Platform::Shopify, 12).await;
    let (woo, woo_id) = live.connect(Platform::WooCommerce, 11).await;
    live.settle(&[&shopify, &woo], 10).await;
    // The command is the only reader of the edit: no worker reconciles it first.
    live.stop_worker();
    woo.set_faults(Faults {
        drop_webhooks: true,
        ..Faults::default()
    });
    live.post_sim(
        &woo,
        "/_sim/adjust",
        json!({ "sku": "MV-DVD", "quantity": 13 }),
    )
    .await;
    let data_dir =
        std::env::temp_dir().join(format!("concord-cli-{}", crate::harness::rand_suffix()));
    let (tenant, url) = (
        live.owner.tenant_id.clone(),
        live.app.url_for_another_process(),
    );
    let dir = data_dir.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args([
                "reconcile",
                "--tenant",
                &tenant,
                "--connection",
                &woo_id,
                "--full",
            ])
            .args(["--database-url", &url])
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("CONCORD_DATA_DIR", &dir)
            .env("CONCORD_LOG_LEVEL", "warn")
            .env(
                "CONCORD_SESSION_KEY",
                "dGVzdC1zZXNzaW9uLWtleS10ZXN0LXNlc3Npb24ta2V5LTEyMw==",
            )
            .env(
                "CONCORD_TOKEN_ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            )
            .output()
    })
    .await
    .expect("joined")
    .expect("run concord");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1/1 100%"), "a progress bar: {stderr}");
    let report: Value = serde_json::from_slice(
        output
            .stdout
            .split(|b| *b == b'\n')
            .find(|l| !l.is_empty())
            .expect("a report line"),
    )
    .expect("JSON report");
    assert_eq!(report["kind"], "full_reconcile");
    assert_eq!(report["checked"], 1, "{report}");
    assert_eq!(report["edits_applied"], 1, "{report}");
    live.start_worker();
    live.settle(&[&shopify, &woo], 13).await;
    let _ = std::fs::remove_dir_all(data_dir);
    live.finish().await;
}

#[actix_web::test]
async fn platform_locations_are_listed_and_mapped_to_sourcing_locations() {
    let live = Live::start().await;
    let (_square, id) = live.connect(Platform::Square, 10).await;
    let path = format!("{}/connections/{id}", live.base);
    let listed = live
        .app
        .get(&format!("{path}/platform-locations"), Some(&live.owner))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let first = listed.body[0].clone();
    assert_eq!(
        first["mapped_to"],
        live.warehouse_id.as_str(),
        "mapped when listings were read: {first}"
    );
    let unmap = live
        .app
        .send(
            Method::PUT,
            &format!("{path}/location-map"),
            Some(json!({ "location_id": live.warehouse_id, "external_location_id": null })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(unmap.status, StatusCode::NO_CONTENT, "{}", unmap.text);
    let listed = live
        .app
        .get(&format!("{path}/platform-locations"), Some(&live.owner))
        .await;
    assert!(listed.body[0]["mapped_to"].is_null(), "{}", listed.text);
    let store = live
        .app
        .post(
            &format!("{}/locations", live.base),
            json!({ "name": "High Street", "kind": "store" }),
            Some(&live.owner),
        )
        .await;
    let not_sourced = live
        .app
        .send(
            Method::PUT,
            &format!("{path}/location-map"),
            Some(json!({ "location_id": str_at(&store.body, "/id"), "external_location_id": first["id"] })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(
        not_sourced.status,
        StatusCode::NOT_FOUND,
        "only a location the channel sells from"
    );
    let remap = live
        .app
        .send(
            Method::PUT,
            &format!("{path}/location-map"),
            Some(json!({ "location_id": live.warehouse_id, "external_location_id": first["id"] })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(remap.status, StatusCode::NO_CONTENT);
    live.finish().await;
}
