//! The `api` scenario: the inventory view as an API client sees it, over real HTTP on
//! loopback with an API token: the first page, a deep page reached by following cursors,
//! and searches by SKU code and by a title word.

use std::time::{Duration, Instant};

use concord_server::{
    auth::secrets::{random_secret, sha256_hex},
    routes::api_tokens::TOKEN_PREFIX,
    state::AppState,
};
use concord_storage::{NewApiToken, test_support::TestDatabase};
use serde_json::{Value, json};

use crate::{
    ingest::start_server,
    scenarios::{Shop, percentile_ms, settings, shop, sku_code},
};

/// Rows per page, the API's default.
const PAGE: &str = "50";

/// Times `requests` inventory requests over `skus` SKUs: half listings (the first page and a
/// deep one in turn), half searches (a SKU code and a title word in turn).
pub async fn api(
    database_url: Option<String>,
    skus: usize,
    requests: usize,
) -> anyhow::Result<String> {
    anyhow::ensure!(skus > 0, "--skus must be positive");
    let db = TestDatabase::create_on(database_url.as_deref(), 8).await?;
    let settings = settings(None, "redis_prefix = \"concord-bench-api\"")?;
    let state = AppState::build(settings, db.store.clone()).await?;
    let shop = shop(&state.store, skus, 1, "shopify").await?;
    db.execute("ANALYZE").await?;
    let token = api_token(&state, &shop).await?;
    let (addr, server) = start_server(state)?;
    let client = Client {
        http: reqwest::Client::new(),
        token,
        url: format!(
            "http://{addr}/api/v1/tenants/{}/inventory",
            shop.scope.tenant_id()
        ),
    };

    let deep = client.cursor_after(skus / 2).await?;
    let code = sku_code(skus * 2 / 3);
    let (mut list, mut search) = (Vec::new(), Vec::new());
    for n in 0..requests {
        let mut query = vec![("limit", PAGE)];
        match (n % 4, &deep) {
            (0, _) | (1, None) => {}
            (1, Some(cursor)) => query.push(("cursor", cursor.as_str())),
            (2, _) => query.push(("search", code.as_str())),
            _ => query.push(("search", "velvet")),
        }
        let started = Instant::now();
        client.get(&query).await?;
        let took = started.elapsed();
        let times = if n % 4 < 2 { &mut list } else { &mut search };
        times.push(took);
    }
    let line = json!({
        "scenario": "api",
        "backend": if db.schema().is_some() { "postgres" } else { "sqlite" },
        "skus": skus,
        "requests": requests,
        "list_p50_ms": p(&mut list, 0.50),
        "list_p95_ms": p(&mut list, 0.95),
        "search_p50_ms": p(&mut search, 0.50),
        "search_p95_ms": p(&mut search, 0.95),
    });
    // Pool connections opened on the server's runtime die with it: finish with the database
    // before stopping the server.
    db.cleanup().await?;
    server.stop(true).await;
    Ok(line.to_string())
}

/// The `p` percentile of `times`, in milliseconds.
fn p(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    percentile_ms(times, p)
}

/// Creates an API token for the shop's owner, as `POST …/api-tokens` does; returns its secret.
async fn api_token(state: &AppState, shop: &Shop) -> anyhow::Result<String> {
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    state
        .store
        .scoped(&shop.scope)
        .create_api_token(NewApiToken {
            user_id: shop.user.clone(),
            name: "bench".into(),
            role: shop.scope.role(),
            prefix: secret.chars().take(12).collect(),
            token_hash: sha256_hex(&secret),
            expires_at: None,
        })
        .await?;
    Ok(secret)
}

/// A keep-alive HTTP client of the inventory endpoint.
struct Client {
    http: reqwest::Client,
    token: String,
    url: String,
}

impl Client {
    /// One inventory request with `query`; its JSON page.
    async fn get(&self, query: &[(&str, &str)]) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(&self.url)
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the inventory answered {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// The cursor of the page after the first `rows` rows, found by following cursors from
    /// the first page (large pages, untimed); `None` when the catalog ends first.
    async fn cursor_after(&self, rows: usize) -> anyhow::Result<Option<String>> {
        let (mut cursor, mut seen) = (None::<String>, 0);
        while seen < rows {
            let mut query = vec![("limit", "500")];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let page = self.get(&query).await?;
            seen += page["items"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(None),
            }
        }
        Ok(cursor)
    }
}
