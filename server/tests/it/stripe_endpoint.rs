//! Stripe connected by its secret key: Concord registers its own webhook endpoint on the
//! account (once, however often asked), stores the endpoint's signing secret and verifies
//! the payments Stripe then sends with it; the event list is the polling safety net; and
//! the stock paths (listings, locations, reconcile, pushes) leave a Stripe connection alone.

use actix_web::http::{Method, StatusCode};
use concord_connectors::Keys;
use concord_simulators::{Platform, RunningSim, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::{
    harness::str_at,
    platforms::{
        DEADLINE, all_processed, captured, confirmed, deliveries, eventually, ledger, offer,
        order_detail, orders_named, stripe_post,
    },
    sync::Live,
};

/// A Stripe simulator with no webhook address of its own, and a Stripe connection given
/// only its secret key (no webhook secret): Concord has to subscribe itself.
async fn stripe_by_key(live: &Live) -> (RunningSim, String) {
    let mut config = SimConfig::new(Platform::Stripe);
    config.time_scale = 0.001;
    let stripe = Simulator::start(config).expect("simulator");
    let id = live
        .new_connection(Platform::Stripe, "Stripe payments", false)
        .await;
    let access = live
        .app
        .send(
            Method::PUT,
            &format!("{}/connections/{id}/access", live.base),
            Some(json!({ "base_url": stripe.base_url(),
                         "credentials": { "api_key": stripe.access_token() } })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);
    (stripe, id)
}

/// The account's webhook endpoints, as Stripe lists them.
async fn endpoints(live: &Live, stripe: &RunningSim) -> Vec<Value> {
    let list: Value = live
        .http
        .get(format!(
            "{}/v1/webhook_endpoints?limit=100",
            stripe.base_url()
        ))
        .bearer_auth(stripe.access_token())
        .send()
        .await
        .expect("endpoints")
        .json()
        .await
        .expect("json");
    assert_eq!(list["object"], "list", "{list}");
    list["data"].as_array().cloned().unwrap_or_default()
}

/// `POST …/connections/{id}/webhooks`: Concord subscribes itself.
async fn register(live: &Live, id: &str) -> String {
    let hooks = live
        .app
        .post(
            &format!("{}/connections/{id}/webhooks", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(hooks.status, StatusCode::CREATED, "{}", hooks.text);
    str_at(&hooks.body, "/url")
}

/// A PaymentIntent for `order_id` (in its metadata), confirmed with a test card.
async fn pay(live: &Live, stripe: &RunningSim, order_id: &str) -> String {
    let created = stripe_post(
        live,
        stripe,
        "/payment_intents",
        &[
            ("amount", "1999"),
            ("currency", "usd"),
            ("metadata[order_id]", order_id),
        ],
    )
    .await;
    let intent = str_at(&created, "/id");
    let confirmed = stripe_post(
        live,
        stripe,
        &format!("/payment_intents/{intent}/confirm"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    intent
}

/// One disc sold on Shopify; the order's id once Concord has it.
async fn shopify_sale(live: &Live, shopify: &RunningSim, shopify_id: &str) -> String {
    let sale = live
        .post_sim(
            shopify,
            "/_sim/sale",
            json!({ "sku": "MV-DVD", "quantity": 1 }),
        )
        .await;
    let order_id = str_at(&sale, "/order_id");
    eventually("the Shopify order stored", DEADLINE, || async {
        order_detail(live, shopify_id, &order_id).await
    })
    .await;
    order_id
}

/// The order named `order_id` once it holds `intent` as a captured payment.
async fn paid_order(live: &Live, order_id: &str, intent: &str) -> Value {
    eventually("the captured payment recorded", DEADLINE, || async {
        let found = orders_named(live, order_id).await;
        match found.iter().find(|o| captured(o, intent)) {
            Some(order) => Ok(order.clone()),
            None => Err(serde_json::to_string(&found).unwrap_or_default()),
        }
    })
    .await
}

#[actix_web::test]
async fn concord_registers_one_stripe_endpoint_and_payments_arrive_signed_with_its_secret() {
    let live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 10).await;
    confirmed(&live, &shopify_id).await;
    let (stripe, stripe_id) = stripe_by_key(&live).await;
    assert!(endpoints(&live, &stripe).await.is_empty());

    let url = register(&live, &stripe_id).await;
    assert_eq!(
        url,
        format!("http://127.0.0.1:{}/webhooks/stripe/{stripe_id}", live.port)
    );
    let registered = endpoints(&live, &stripe).await;
    assert_eq!(registered.len(), 1, "{registered:?}");
    let endpoint = &registered[0];
    assert_eq!(endpoint["url"], url.as_str());
    assert_eq!(endpoint["status"], "enabled");
    let events: Vec<&str> = endpoint["enabled_events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for wanted in [
        "payment_intent.succeeded",
        "charge.succeeded",
        "charge.refunded",
        "refund.created",
        "refund.updated",
    ] {
        assert!(events.contains(&wanted), "{wanted} missing: {events:?}");
    }

    // A payment on Stripe: the events come to the endpoint signed with its own secret,
    // which Concord stored at registration; they verify and the payment lands on the
    // Shopify order its metadata names.
    let order_id = shopify_sale(&live, &shopify, &shopify_id).await;
    let intent = pay(&live, &stripe, &order_id).await;
    let stored = all_processed(&live, &stripe_id, 2).await;
    assert!(
        stored
            .iter()
            .all(|d| d["status"] == "processed" && d["external_id"].is_string()),
        "{stored:?}"
    );
    let paid = paid_order(&live, &order_id, &intent).await;
    assert_eq!(paid["connection_id"], shopify_id.as_str(), "{paid}");
    let payments = paid["payments"].as_array().expect("payments");
    assert_eq!(payments.len(), 1, "{paid}");
    assert_eq!(payments[0]["amount_minor"], 1999, "{paid}");
    let sent = stripe.info();
    assert!(
        sent["platform_facts"]["webhook_endpoints"][0]["id"] == endpoint["id"],
        "{sent}"
    );

    // A delivery signed with any other key (here the simulator's own default secret) is
    // refused: Concord verifies with the endpoint's secret.
    let forged = json!({ "id": "evt_forged", "object": "event", "type": "payment_intent.succeeded",
                         "created": chrono::Utc::now().timestamp(),
                         "data": { "object": { "id": "pi_forged", "object": "payment_intent",
                                               "amount": 100, "currency": "usd", "status": "succeeded",
                                               "metadata": { "order_id": order_id } } } })
    .to_string();
    let keys = Keys {
        secret: Some(&stripe.config().webhook_secret),
        ..Keys::default()
    };
    let headers = concord_connectors::sign(
        Platform::Stripe,
        forged.as_bytes(),
        &keys,
        None,
        chrono::Utc::now().timestamp(),
    )
    .expect("signed");
    let mut request = live.http.post(&url).body(forged);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.expect("forged").status().as_u16(), 401);

    // Someone disables the endpoint in the Dashboard and trims its events. Registering
    // again keeps the one endpoint and the secret Concord holds, enables it and restores
    // the events: a refund arrives verified and reaches the same order.
    let endpoint_id = str_at(endpoint, "/id");
    let trimmed = stripe_post(
        &live,
        &stripe,
        &format!("/webhook_endpoints/{endpoint_id}"),
        &[
            ("enabled_events[]", "charge.succeeded"),
            ("disabled", "true"),
        ],
    )
    .await;
    assert_eq!(trimmed["status"], "disabled", "{trimmed}");
    assert_eq!(register(&live, &stripe_id).await, url);
    let again = endpoints(&live, &stripe).await;
    assert_eq!(again.len(), 1, "no second endpoint: {again:?}");
    assert_eq!(again[0]["id"], endpoint["id"]);
    assert_eq!(again[0]["status"], "enabled", "{again:?}");
    let restored = again[0]["enabled_events"].as_array().expect("events");
    for wanted in ["charge.succeeded", "charge.refunded", "refund.created"] {
        assert!(restored.iter().any(|e| e == wanted), "{wanted}: {again:?}");
    }
    stripe_post(
        &live,
        &stripe,
        "/refunds",
        &[("payment_intent", intent.as_str()), ("amount", "500")],
    )
    .await;
    let refunded = eventually("the refund on the Shopify order", DEADLINE, || async {
        let order = order_detail(&live, &shopify_id, &order_id).await?;
        match order["refunds"].as_array().map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            _ => Err(order.to_string()),
        }
    })
    .await;
    assert_eq!(refunded["amount_minor"], 500, "{refunded}");
    // The payment's two events and the refund's two (refund.created, charge.refunded)
    // came by webhook, all verified and applied; the forgery was never stored.
    let stored = all_processed(&live, &stripe_id, 4).await;
    assert_eq!(stored.len(), 4, "{stored:?}");
    assert!(stored.iter().all(|d| d["external_id"] != "evt_forged"));

    // A connection whose address already has an endpoint on the account (made by hand in
    // the Dashboard, say) cannot learn its secret: Stripe shows it only at creation.
    // Concord keeps the endpoint and says so, instead of storing nothing and refusing
    // every delivery.
    let orphan = live
        .new_connection(Platform::Stripe, "Stripe again", false)
        .await;
    let access = live
        .app
        .send(
            Method::PUT,
            &format!("{}/connections/{orphan}/access", live.base),
            Some(json!({ "base_url": stripe.base_url(),
                         "credentials": { "api_key": stripe.access_token() } })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);
    let orphan_url = format!("http://127.0.0.1:{}/webhooks/stripe/{orphan}", live.port);
    stripe_post(
        &live,
        &stripe,
        "/webhook_endpoints",
        &[("url", orphan_url.as_str()), ("enabled_events[]", "*")],
    )
    .await;
    let refused = live
        .app
        .post(
            &format!("{}/connections/{orphan}/webhooks", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("webhook_secret"), "{}", refused.text);
    assert_eq!(
        endpoints(&live, &stripe).await.len(),
        2,
        "nothing more created"
    );
    live.finish().await;
}

/// Waits for job `id` to finish and returns it.
async fn finished_job(live: &Live, id: &str) -> Value {
    eventually("the job finished", DEADLINE, || async {
        let jobs = live
            .app
            .get(&format!("{}/jobs", live.base), Some(&live.owner))
            .await;
        match jobs
            .body
            .as_array()
            .and_then(|all| all.iter().find(|j| j["id"] == id))
        {
            Some(job) if job["status"] != "running" => Ok(job.clone()),
            _ => Err(jobs.text),
        }
    })
    .await
}

#[actix_web::test]
async fn stripe_connections_skip_the_stock_paths_and_polling_brings_missed_payments() {
    let live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 10).await;
    confirmed(&live, &shopify_id).await;
    let (stripe, stripe_id) = stripe_by_key(&live).await;

    // Stripe lists no items and no locations: a conflict that says so, not a platform error.
    for path in ["listings/sync", "platform-locations"] {
        let method = if path == "listings/sync" {
            Method::POST
        } else {
            Method::GET
        };
        let reply = live
            .app
            .send(
                method,
                &format!("{}/connections/{stripe_id}/{path}", live.base),
                (path == "listings/sync").then(|| json!({})),
                Some(&live.owner),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{path}: {}", reply.text);
        assert!(
            reply.text.contains("Stripe keeps no stock"),
            "{}",
            reply.text
        );
    }

    // No webhook endpoint and no other address: a payment reaches Concord only through
    // the event list, which Concord polls.
    let order_id = shopify_sale(&live, &shopify, &shopify_id).await;
    let intent = pay(&live, &stripe, &order_id).await;
    let paid = paid_order(&live, &order_id, &intent).await;
    assert_eq!(paid["connection_id"], shopify_id.as_str(), "{paid}");
    assert!(deliveries(&live, &stripe_id).await.is_empty());

    // A full reconcile polls its orders, compares no stock, and finishes cleanly.
    let started = live
        .app
        .post(
            &format!("{}/connections/{stripe_id}/reconcile", live.base),
            json!({ "full": true }),
            Some(&live.owner),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let job = finished_job(&live, &str_at(&started.body, "/id")).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["error"], Value::Null, "{job}");
    assert_eq!(job["report"]["checked"], 0, "{job}");
    assert!(
        job["report"]["stock_not_compared"]
            .as_str()
            .is_some_and(|why| why.contains("Stripe keeps no stock")),
        "{job}"
    );

    // Pushes go on for Shopify and never reach Stripe; nothing failed on either side.
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 2 }),
    )
    .await;
    let row = eventually("Shopify's offer lowered", DEADLINE, || async {
        let row = ledger(&live).await;
        match offer(&row, &shopify_id) {
            Some(7) => Ok(row),
            _ => Err(row.to_string()),
        }
    })
    .await;
    live.settle(&[&shopify], 7).await;
    let stripe_offer = row["availability"].as_array().and_then(|all| {
        all.iter()
            .find(|a| a["connection_id"] == stripe_id.as_str())
    });
    if let Some(stripe_offer) = stripe_offer {
        // Stripe sells nothing: never written, never failed.
        assert_eq!(stripe_offer["reported"], Value::Null, "{row}");
        assert_eq!(stripe_offer["push_error"], Value::Null, "{row}");
        assert_eq!(stripe_offer["discrepancy"], false, "{row}");
    }
    let jobs = live
        .app
        .get(
            &format!("{}/jobs?connection_id={stripe_id}", live.base),
            Some(&live.owner),
        )
        .await;
    assert!(
        jobs.body
            .as_array()
            .is_some_and(|all| all.iter().all(|j| j["status"] == "done")),
        "no Stripe job failed: {}",
        jobs.text
    );
    // Concord only ever read Stripe's event list; the writes are this test's payments.
    let requests: Value = live
        .http
        .get(format!("{}/_sim/requests", stripe.base_url()))
        .send()
        .await
        .expect("requests")
        .json()
        .await
        .expect("json");
    let calls = requests["requests"].as_array().expect("requests");
    assert!(
        calls.iter().any(|r| r["method"] == "GET"
            && r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/v1/events"))),
        "{requests}"
    );
    for call in calls {
        let path = call["path"].as_str().unwrap_or_default();
        assert!(
            (call["method"] == "GET" && path.starts_with("/v1/events"))
                || (call["method"] == "POST" && path.starts_with("/v1/payment_intents")),
            "an unexpected call to Stripe: {call}"
        );
    }
    live.finish().await;
}
