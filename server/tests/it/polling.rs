//! Order polling against a simulated platform, through the connector itself.

use concord_connectors::api::{self, Credentials, Session};
use concord_simulators::{
    Platform, RateLimit, RunningSim, SaleRequest, SeedProduct, SimConfig, Simulator,
};

/// A simulator of `platform` selling MV-DVD (`stock` units) under `limit`, and the
/// credentials to read it with.
fn selling(platform: Platform, stock: i64, limit: RateLimit) -> (RunningSim, Credentials) {
    let mut config = SimConfig::new(platform);
    config.seed = vec![SeedProduct::new(
        "MV-DVD",
        "",
        "Midnight Velvet",
        1999,
        "USD",
        stock,
    )];
    config.rate_limit = Some(limit);
    let sim = Simulator::start(config).expect("simulator");
    let credentials = Credentials {
        access_token: Some(sim.access_token().to_owned()),
        account_id: sim.api_base().rsplit('/').next().map(str::to_owned),
        ..Credentials::default()
    };
    (sim, credentials)
}

/// A sale, an order poll, then a dozen sales most likely stamped in the same second as the
/// first: the next poll reads every one.
async fn polling_misses_no_sale_stamped_in_the_second_of_the_last_one_read(platform: Platform) {
    // The platform's own rate limit lifted: the reads here are few and quick.
    let (sim, credentials) = selling(
        platform,
        100,
        RateLimit {
            capacity: 1e9,
            per_second: 1e9,
        },
    );
    let http = reqwest::Client::new();
    let session = Session {
        base_url: sim.base_url(),
        credentials: &credentials,
        http: &http,
    };
    let connector = api::connector(platform).expect("connector");
    let sell = || {
        sim.sale(&SaleRequest {
            sku: Some("MV-DVD".into()),
            quantity: Some(1),
            ..SaleRequest::default()
        })
        .expect("sale")
    };
    let first = sell();
    let read = connector.order_changes(session, None).await.expect("poll");
    assert_eq!(read.events.len(), 1);
    // Sold right after the read, more than a page of orders: most likely stamped in the same
    // second as the first.
    let later: Vec<String> = (0..12).map(|_| sell().order_id).collect();
    let again = connector
        .order_changes(session, read.cursor)
        .await
        .expect("poll");
    let ids: Vec<_> = again
        .events
        .iter()
        .filter_map(|e| e.external_order_id.clone())
        .collect();
    for id in &later {
        assert!(
            ids.contains(id),
            "{platform}: the later sale {id} was read: {ids:?} (first {})",
            first.order_id
        );
    }
    sim.stop().await;
}

#[actix_web::test]
async fn lightspeed_polling_misses_no_sale_stamped_in_the_second_of_the_last_one_read() {
    polling_misses_no_sale_stamped_in_the_second_of_the_last_one_read(Platform::LightspeedR).await;
}

#[actix_web::test]
async fn shopify_polling_misses_no_sale_stamped_in_the_second_of_the_last_one_read() {
    polling_misses_no_sale_stamped_in_the_second_of_the_last_one_read(Platform::Shopify).await;
}

/// Many orders in one second, and a cost budget that lets only a couple of pages through
/// at a time: each read goes on after the last page read, so polling gets through them all
/// instead of reading the second's first pages again and again.
#[actix_web::test]
async fn shopify_polling_gets_through_a_busy_second_under_its_cost_budget() {
    // About two pages of orders at once, restored in a second.
    let (sim, credentials) = selling(
        Platform::Shopify,
        1000,
        RateLimit {
            capacity: 1000.0,
            per_second: 1000.0,
        },
    );
    let http = reqwest::Client::new();
    let session = Session {
        base_url: sim.base_url(),
        credentials: &credentials,
        http: &http,
    };
    let connector = api::connector(Platform::Shopify).expect("connector");
    let sold: Vec<String> = (0..40)
        .map(|_| {
            sim.sale(&SaleRequest {
                sku: Some("MV-DVD".into()),
                quantity: Some(1),
                ..SaleRequest::default()
            })
            .expect("sale")
            .order_id
        })
        .collect();
    let (mut cursor, mut read, mut refused) = (None, std::collections::BTreeSet::new(), 0);
    for _ in 0..40 {
        match connector.order_changes(session, cursor.clone()).await {
            Ok(changes) => {
                read.extend(
                    changes
                        .events
                        .into_iter()
                        .filter_map(|e| e.external_order_id),
                );
                cursor = changes.cursor;
            }
            Err(api::ConnectorError::RateLimited { .. }) => refused += 1,
            Err(e) => panic!("poll: {e}"),
        }
        if sold.iter().all(|id| read.contains(id)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let missing = sold.iter().filter(|id| !read.contains(*id)).count();
    assert_eq!(missing, 0, "orders never read ({refused} reads refused)");
    sim.stop().await;
}
