//! Registering webhooks through the platforms' own APIs — Shopify's
//! `webhookSubscriptionCreate`, Square's Webhook Subscriptions API, WooCommerce's
//! `POST /webhooks`, Stripe's `POST /v1/webhook_endpoints` — and receiving signed deliveries
//! at the registered addresses.

use std::time::Duration;

use concord_connectors::{Delivery, Keys, Platform};
use concord_simulators::{RunningSim, Simulator, sink::Received};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, config, control, deliveries, read, sink, verify};

const WEBHOOK_CREATE: &str = "mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $callbackUrl: URL!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: { callbackUrl: $callbackUrl, format: JSON }) { webhookSubscription { id topic } userErrors { field message } } }";

const WEBHOOK_LIST: &str = "query WebhookSubscriptions($first: Int!) { webhookSubscriptions(first: $first) { nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } } }";

async fn shopify_graphql(
    sim: &RunningSim,
    operation: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = client()
        .post(format!("{}/graphql.json", sim.api_base()))
        .header("X-Shopify-Access-Token", sim.access_token())
        .json(&json!({"query": query, "variables": variables, "operationName": operation}))
        .send()
        .await
        .expect("graphql call");
    let (status, _, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Whether `received` verifies with `secret` (for checking that a wrong key fails).
fn verifies(platform: Platform, received: &Received, secret: &str, url: &str) -> bool {
    let delivery = Delivery {
        body: &received.body,
        headers: &received.headers,
        url: Some(url),
    };
    let keys = Keys {
        secret: Some(secret),
        ..Keys::default()
    };
    concord_connectors::verify(platform, &delivery, &keys, chrono::Utc::now().timestamp()).is_ok()
}

#[tokio::test]
async fn shopify_webhook_subscriptions_route_their_topics() {
    let receiver = sink();
    let cfg = config(Platform::Shopify, 1);
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");
    let orders_url = format!("{}/orders", receiver.url());
    let stock_url = format!("{}/stock", receiver.url());

    let body = shopify_graphql(
        &sim,
        "WebhookCreate",
        WEBHOOK_CREATE,
        json!({"topic": "ORDERS_CREATE", "callbackUrl": orders_url}),
    )
    .await;
    let created = &body["data"]["webhookSubscriptionCreate"];
    assert_eq!(created["userErrors"], json!([]), "{body}");
    assert_eq!(created["webhookSubscription"]["topic"], "ORDERS_CREATE");
    let id = created["webhookSubscription"]["id"].as_str().expect("id");
    assert!(id.starts_with("gid://shopify/WebhookSubscription/"), "{id}");
    assert_eq!(
        created["webhookSubscription"].as_object().map(|o| o.len()),
        Some(2),
        "exactly the selection: {body}"
    );

    let body = shopify_graphql(
        &sim,
        "WebhookCreate",
        WEBHOOK_CREATE,
        json!({"topic": "INVENTORY_LEVELS_UPDATE", "callbackUrl": stock_url}),
    )
    .await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([])
    );

    // The same topic and address again is refused.
    let body = shopify_graphql(
        &sim,
        "WebhookCreate",
        WEBHOOK_CREATE,
        json!({"topic": "ORDERS_CREATE", "callbackUrl": orders_url}),
    )
    .await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"],
        json!({
            "webhookSubscription": null,
            "userErrors": [{
                "field": ["webhookSubscription", "callbackUrl"],
                "message": "Address for this topic has already been taken",
            }],
        })
    );

    let body = shopify_graphql(
        &sim,
        "WebhookSubscriptions",
        WEBHOOK_LIST,
        json!({"first": 10}),
    )
    .await;
    let nodes = body["data"]["webhookSubscriptions"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(nodes.len(), 2, "{body}");
    assert_eq!(nodes[0]["id"], id);
    assert_eq!(
        nodes[0]["endpoint"],
        json!({"__typename": "WebhookHttpEndpoint", "callbackUrl": orders_url})
    );
    assert_eq!(nodes[1]["topic"], "INVENTORY_LEVELS_UPDATE");

    let (status, _) = control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    assert_eq!(status, StatusCode::OK);
    let orders = deliveries(&receiver, "x-shopify-topic", "orders/create", 1).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].path, "/webhooks/orders");
    verify(Platform::Shopify, &orders[0], &secret, &orders_url);
    let levels = deliveries(&receiver, "x-shopify-topic", "inventory_levels/update", 1).await;
    assert_eq!(levels.len(), 1);
    assert_eq!(levels[0].path, "/webhooks/stock");
    verify(Platform::Shopify, &levels[0], &secret, &stock_url);
    assert_eq!(levels[0].json().expect("json")["available"], 4);

    // Unsubscribed topics go nowhere; the catch-all URL adds a second address.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| r.header("x-shopify-topic") != Some("orders/paid"))
    );
    receiver.clear();
    sim.set_webhook_url(Some(format!("{}/all", receiver.url())));
    control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    let orders = deliveries(&receiver, "x-shopify-topic", "orders/create", 2).await;
    let mut paths: Vec<&str> = orders.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/webhooks/all", "/webhooks/orders"]);
    sim.stop().await;
    receiver.stop().await;
}

async fn square_call(
    sim: &RunningSim,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", sim.api_base());
    let mut request = match method {
        "GET" => client().get(url),
        _ => client().post(url),
    };
    request = request
        .bearer_auth(sim.access_token())
        .header("Square-Version", "2025-01-23");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, _, json) = read(request.send().await.expect("square call")).await;
    (status, json)
}

#[tokio::test]
async fn square_webhook_subscriptions_deliver_signed_events() {
    let receiver = sink();
    let sim = Simulator::start(config(Platform::Square, 1)).expect("start");
    let url = format!("{}/square", receiver.url());
    let event_types = [
        "order.created",
        "order.updated",
        "payment.created",
        "payment.updated",
        "refund.created",
        "inventory.count.updated",
    ];
    let request = json!({
        "idempotency_key": "concord-sub-1",
        "subscription": {
            "name": "Concord",
            "event_types": event_types,
            "notification_url": url,
            "api_version": "2025-01-23",
        }
    });
    let (status, body) = square_call(
        &sim,
        "POST",
        "/webhooks/subscriptions",
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let subscription = &body["subscription"];
    let id = subscription["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("wbhk_"), "{id}");
    assert_eq!(subscription["name"], "Concord");
    assert_eq!(subscription["enabled"], true);
    assert_eq!(subscription["event_types"], json!(event_types));
    assert_eq!(subscription["notification_url"], url.as_str());
    assert_eq!(subscription["api_version"], "2025-01-23");
    assert!(subscription["created_at"].is_string());
    let key = subscription["signature_key"]
        .as_str()
        .expect("signature_key")
        .to_owned();
    assert_eq!(key, sim.config().webhook_secret);

    // The same idempotency key answers the same subscription.
    let (status, again) = square_call(&sim, "POST", "/webhooks/subscriptions", Some(request)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["subscription"]["id"], id.as_str());

    // No notification URL: Square's 400.
    let (status, refused) = square_call(
        &sim,
        "POST",
        "/webhooks/subscriptions",
        Some(json!({"idempotency_key": "k2", "subscription": {"name": "x", "event_types": ["order.created"]}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["errors"][0]["category"], "INVALID_REQUEST_ERROR");
    assert_eq!(refused["errors"][0]["code"], "MISSING_REQUIRED_PARAMETER");
    assert_eq!(
        refused["errors"][0]["field"],
        "subscription.notification_url"
    );

    let (status, list) = square_call(&sim, "GET", "/webhooks/subscriptions", None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list["subscriptions"].as_array().expect("subscriptions");
    assert_eq!(listed.len(), 1, "{list}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(listed[0].get("signature_key").is_none());

    let (status, _) = control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    assert_eq!(status, StatusCode::OK);
    let of_type =
        |kind: &'static str| move |r: &Received| r.json().is_some_and(|j| j["type"] == kind);
    for kind in [
        "order.created",
        "payment.created",
        "inventory.count.updated",
    ] {
        let got = receiver
            .wait_for(1, Duration::from_secs(10), of_type(kind))
            .await;
        assert_eq!(got.len(), 1, "{kind}");
        assert_eq!(got[0].path, "/webhooks/square");
        verify(Platform::Square, &got[0], &key, &url);
        assert!(!verifies(Platform::Square, &got[0], &key, &receiver.url()));
    }
    sim.stop().await;
    receiver.stop().await;
}

async fn woo(
    sim: &RunningSim,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let cfg = sim.config();
    let url = format!("{}{path}", sim.api_base());
    let mut request = match method {
        "GET" => client().get(url),
        _ => client().post(url),
    };
    request = request.basic_auth(&cfg.client_id, Some(&cfg.client_secret));
    if let Some(body) = body {
        request = request.json(body);
    }
    let (status, _, json) = read(request.send().await.expect("woo call")).await;
    (status, json)
}

#[tokio::test]
async fn woocommerce_webhooks_sign_with_their_own_secret() {
    let receiver = sink();
    let sim = Simulator::start(config(Platform::WooCommerce, 1)).expect("start");
    // Without a catch-all URL the store has no webhooks.
    let (status, hooks) = woo(&sim, "GET", "/webhooks", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hooks, json!([]));

    let orders_url = format!("{}/orders", receiver.url());
    let (status, hook) = woo(
        &sim,
        "POST",
        "/webhooks",
        Some(&json!({
            "name": "Concord order.created",
            "topic": "order.created",
            "delivery_url": orders_url,
            "secret": "order-secret",
            "status": "active",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let hook_id = hook["id"].as_u64().expect("id");
    assert_eq!(hook["name"], "Concord order.created");
    assert_eq!(hook["status"], "active");
    assert_eq!(hook["topic"], "order.created");
    assert_eq!(hook["resource"], "order");
    assert_eq!(hook["event"], "created");
    assert_eq!(hook["hooks"], json!(["woocommerce_new_order"]));
    assert_eq!(hook["delivery_url"], orders_url.as_str());
    assert!(hook["date_created"].is_string());
    assert!(hook.get("secret").is_none(), "the secret is never echoed");

    // The creation ping: unsigned, form-encoded.
    let pings = receiver
        .wait_for(1, Duration::from_secs(5), |r| r.path == "/webhooks/orders")
        .await;
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].body, format!("webhook_id={hook_id}").into_bytes());
    assert!(pings[0].header("x-wc-webhook-signature").is_none());

    let products_url = format!("{}/products", receiver.url());
    let (status, product_hook) = woo(
        &sim,
        "POST",
        "/webhooks",
        Some(&json!({
            "name": "Concord product.updated",
            "topic": "product.updated",
            "delivery_url": products_url,
            "secret": "product-secret",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{product_hook}");
    let (status, refused) = woo(
        &sim,
        "POST",
        "/webhooks",
        Some(&json!({"topic": "order.paid", "delivery_url": orders_url})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["code"],
        "woocommerce_rest_shop_webhook_invalid_topic"
    );
    let (_, hooks) = woo(&sim, "GET", "/webhooks", None).await;
    assert_eq!(hooks.as_array().map(Vec::len), Some(2), "{hooks}");
    let (_, one) = woo(&sim, "GET", &format!("/webhooks/{hook_id}"), None).await;
    assert_eq!(one["delivery_url"], orders_url.as_str());

    receiver.clear();
    let (status, _) = control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    assert_eq!(status, StatusCode::OK);
    let orders = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 1).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].path, "/webhooks/orders");
    assert_eq!(
        orders[0].header("x-wc-webhook-id"),
        Some(hook_id.to_string().as_str())
    );
    verify(
        Platform::WooCommerce,
        &orders[0],
        "order-secret",
        &orders_url,
    );
    assert!(!verifies(
        Platform::WooCommerce,
        &orders[0],
        &sim.config().webhook_secret,
        &orders_url
    ));
    let products = deliveries(&receiver, "x-wc-webhook-topic", "product.updated", 1).await;
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].path, "/webhooks/products");
    verify(
        Platform::WooCommerce,
        &products[0],
        "product-secret",
        &products_url,
    );

    // A new secret takes effect for the next delivery.
    let (status, _) = woo(
        &sim,
        "POST",
        &format!("/webhooks/{hook_id}"),
        Some(&json!({"secret": "rotated"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    let orders = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 2).await;
    assert_eq!(orders.len(), 2);
    verify(Platform::WooCommerce, &orders[1], "rotated", &orders_url);

    // No hook for order.updated: nothing sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| r.header("x-wc-webhook-topic") != Some("order.updated"))
    );
    sim.stop().await;
    receiver.stop().await;
}

async fn stripe(
    sim: &RunningSim,
    method: reqwest::Method,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = client()
        .request(method, format!("{}{path}", sim.api_base()))
        .bearer_auth(sim.access_token())
        .form(form)
        .send()
        .await
        .expect("stripe call");
    let (status, _, json) = read(response).await;
    (status, json)
}

#[tokio::test]
async fn stripe_webhook_endpoints_deliver_their_events_signed_with_their_own_secret() {
    use reqwest::Method;
    let receiver = sink();
    let sim = Simulator::start(config(Platform::Stripe, 1)).expect("start");
    let payments_url = format!("{}/payments", receiver.url());
    let (status, created) = stripe(
        &sim,
        Method::POST,
        "/webhook_endpoints",
        &[
            ("url", payments_url.as_str()),
            ("enabled_events[]", "payment_intent.succeeded"),
            ("enabled_events[]", "charge.refunded"),
            ("description", "Concord"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["object"], "webhook_endpoint");
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["url"], payments_url.as_str());
    assert_eq!(
        created["enabled_events"],
        json!(["payment_intent.succeeded", "charge.refunded"])
    );
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("we_"), "{id}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 20,
        "{secret}"
    );

    // The secret is shown once: neither the endpoint nor the list shows it again.
    let (status, one) = stripe(&sim, Method::GET, &format!("/webhook_endpoints/{id}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert!(one.get("secret").is_none(), "{one}");
    assert_eq!(one["url"], payments_url.as_str());

    // Everything goes to a second endpoint, with a secret of its own.
    let all_url = format!("{}/all", receiver.url());
    let (status, everything) = stripe(
        &sim,
        Method::POST,
        "/webhook_endpoints",
        &[("url", all_url.as_str()), ("enabled_events[0]", "*")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{everything}");
    let all_secret = everything["secret"].as_str().expect("secret").to_owned();
    assert_ne!(all_secret, secret);

    let (status, _) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"amount": 1500, "currency": "usd"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // payment_intent.created, payment_intent.succeeded and charge.succeeded to `*`; only
    // the succeeded intent to the first endpoint.
    let received = receiver.wait_for(4, Duration::from_secs(5), |_| true).await;
    assert_eq!(received.len(), 4, "{received:?}");
    let to_payments: Vec<&Received> = received
        .iter()
        .filter(|r| r.path == "/webhooks/payments")
        .collect();
    assert_eq!(to_payments.len(), 1);
    let body = to_payments[0].json().expect("json");
    assert_eq!(body["type"], "payment_intent.succeeded");
    verify(Platform::Stripe, to_payments[0], &secret, &payments_url);
    assert!(!verifies(
        Platform::Stripe,
        to_payments[0],
        &sim.config().webhook_secret,
        &payments_url
    ));
    assert!(!verifies(
        Platform::Stripe,
        to_payments[0],
        &all_secret,
        &payments_url
    ));
    for r in received.iter().filter(|r| r.path == "/webhooks/all") {
        verify(Platform::Stripe, r, &all_secret, &all_url);
    }

    // Deleted: nothing more arrives there.
    let (status, deleted) = stripe(
        &sim,
        Method::DELETE,
        &format!("/webhook_endpoints/{id}"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(
        deleted,
        json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    receiver.clear();
    control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"amount": 900, "currency": "usd"}),
    )
    .await;
    let received = receiver.wait_for(3, Duration::from_secs(5), |_| true).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(received.len(), 3);
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| r.path == "/webhooks/all"),
        "the deleted endpoint receives nothing"
    );
    let (status, missing) =
        stripe(&sim, Method::GET, &format!("/webhook_endpoints/{id}"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "resource_missing");
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn stripe_webhook_endpoints_page_validate_and_update() {
    use reqwest::Method;
    let sim = Simulator::start(config(Platform::Stripe, 1)).expect("start");
    let (status, missing) = stripe(
        &sim,
        Method::POST,
        "/webhook_endpoints",
        &[("enabled_events[]", "charge.succeeded")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["error"]["code"], "parameter_missing");
    assert_eq!(missing["error"]["param"], "url");
    let (status, bad) = stripe(
        &sim,
        Method::POST,
        "/webhook_endpoints",
        &[
            ("url", "https://example.com/hook"),
            ("enabled_events[]", "charge.succeeded"),
            ("enabled_events[]", "Charge Succeeded"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["param"], "enabled_events[1]");
    let (status, _) = stripe(
        &sim,
        Method::POST,
        "/webhook_endpoints",
        &[("url", "https://example.com/hook")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let mut ids = Vec::new();
    for n in 0..3 {
        let url = format!("https://example.com/hook/{n}");
        let (status, created) = stripe(
            &sim,
            Method::POST,
            "/webhook_endpoints",
            &[
                ("url", url.as_str()),
                ("enabled_events[]", "charge.succeeded"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    // Newest first, two a page, walked with starting_after.
    let (status, first) = stripe(&sim, Method::GET, "/webhook_endpoints?limit=2", &[]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["object"], "list");
    assert_eq!(first["url"], "/v1/webhook_endpoints");
    assert_eq!(first["has_more"], true);
    let page: Vec<&str> = first["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(page, vec![ids[2].as_str(), ids[1].as_str()]);
    assert!(first["data"][0].get("secret").is_none());
    let (_, second) = stripe(
        &sim,
        Method::GET,
        &format!("/webhook_endpoints?limit=2&starting_after={}", ids[1]),
        &[],
    )
    .await;
    assert_eq!(second["has_more"], false);
    assert_eq!(second["data"][0]["id"], ids[0].as_str());

    // An update changes the events and can disable the endpoint.
    let (status, updated) = stripe(
        &sim,
        Method::POST,
        &format!("/webhook_endpoints/{}", ids[0]),
        &[
            ("enabled_events[]", "charge.succeeded"),
            ("enabled_events[]", "refund.created"),
            ("disabled", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["status"], "disabled");
    assert_eq!(
        updated["enabled_events"],
        json!(["charge.succeeded", "refund.created"])
    );
    let info = sim.info();
    let listed = info["platform_facts"]["webhook_endpoints"]
        .as_array()
        .expect("endpoints");
    assert_eq!(listed.len(), 3);

    // A secret key is required.
    let response = client()
        .get(format!("{}/webhook_endpoints", sim.api_base()))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    sim.stop().await;
}
