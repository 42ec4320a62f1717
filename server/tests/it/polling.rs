//! Order polling against a simulated platform, through the connector itself.

use concord_connectors::api::{self, Credentials, Session};
use concord_simulators::{Platform, RateLimit, SaleRequest, SeedProduct, SimConfig, Simulator};

/// A sale, an order poll, then a dozen sales most likely stamped in the same second as the
/// first: the next poll reads every one.
async fn polling_misses_no_sale_stamped_in_the_second_of_the_last_one_read(platform: Platform) {
    let mut config = SimConfig::new(platform);
    config.seed = vec![SeedProduct::new(
        "MV-DVD",
        "",
        "Midnight Velvet",
        1999,
        "USD",
        100,
    )];
    // The platform's own rate limit lifted: the reads here are few and quick.
    config.rate_limit = Some(RateLimit {
        capacity: 1e9,
        per_second: 1e9,
    });
    let sim = Simulator::start(config).expect("simulator");
    let credentials = Credentials {
        access_token: Some(sim.access_token().to_owned()),
        account_id: sim.api_base().rsplit('/').next().map(str::to_owned),
        ..Credentials::default()
    };
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
