//! Property tests of the ledger through real storage (SQLite, or PostgreSQL when
//! `DATABASE_URL` names one): however order events are interleaved, duplicated and
//! reordered, on-hand equals the sum of movements, the outcome equals applying them in
//! order, offers are never negative, and kits stay consistent with their components.

use chrono::{DateTime, Duration, Utc};
use concord_domain::{
    ConnectionId, Email, LocationId, OrganizationName, SkuId,
    availability::{ChannelRules, kits_sellable},
    catalog::{Classifications, Format, SkuCode},
    events::{CommerceEvent, InboundEvent, LineSnapshot, OrderSnapshot},
    ledger::{LocationKind, MovementReason, StockLevel},
    orders::OrderStatus,
};
use concord_storage::{
    Change, KitComponent, NewMovement, ProductDraft, SkuDraft, Store, TenantScope,
    test_support::TestDatabase,
};
use proptest::prelude::*;

/// One order's life: the states it passes through, in platform time order.
type Life = Vec<(OrderStatus, i64, i64)>;

struct Shop {
    scope: TenantScope,
    connection: ConnectionId,
    warehouse: LocationId,
    parts: [SkuId; 2],
    kit: SkuId,
}

async fn shop(store: &Store, name: &str) -> Shop {
    let email = Email::parse(&format!("{name}@prop.test")).expect("email");
    let org = OrganizationName::parse(name).expect("name");
    let (user, tenant) = store
        .signup(&email, "x".into(), &org)
        .await
        .expect("signup");
    let scope = store.authorize(&user.id, &tenant.id).await.expect("scope");
    let repos = store.scoped(&scope);
    let warehouse = repos
        .create_location("Warehouse".into(), LocationKind::Warehouse)
        .await
        .expect("location")
        .id;
    let connection = repos
        .create_connection("shopify".into(), "Web".into(), "test")
        .await
        .expect("connection")
        .id;
    repos
        .configure_connection(
            &connection,
            ChannelRules {
                safety_buffer: 1,
                cap: None,
            },
            std::slice::from_ref(&warehouse),
        )
        .await
        .expect("sourcing");
    let product = repos
        .create_product(ProductDraft {
            title: "Prop".into(),
            format: Format::Dvd,
            studio: None,
            release_date: None,
            explicit: false,
            us_2257_statement_present: false,
            classifications: Classifications::default(),
        })
        .await
        .expect("product");
    let mut parts = Vec::new();
    for code in ["P-A", "P-B"] {
        let sku = repos
            .create_sku(SkuDraft {
                product_id: product.id.clone(),
                code: SkuCode::parse(code).expect("code"),
                barcode: None,
                components: vec![],
            })
            .await
            .expect("sku");
        repos
            .record_movements(vec![NewMovement {
                sku_id: sku.id.clone(),
                location_id: warehouse.clone(),
                reason: MovementReason::Receive,
                change: Change::Delta(12),
                idempotency_key: None,
                source: None,
                order_line: None,
                actor: "system".into(),
                note: None,
                occurred_at: Utc::now(),
            }])
            .await
            .expect("receive");
        parts.push(sku.id);
    }
    let kit = repos
        .create_sku(SkuDraft {
            product_id: product.id,
            code: SkuCode::parse("P-KIT").expect("code"),
            barcode: None,
            components: vec![
                KitComponent {
                    sku_id: parts[0].clone(),
                    quantity: 2,
                },
                KitComponent {
                    sku_id: parts[1].clone(),
                    quantity: 1,
                },
            ],
        })
        .await
        .expect("kit");
    let parts = [parts[0].clone(), parts[1].clone()];
    Shop {
        scope,
        connection,
        warehouse,
        parts,
        kit: kit.id,
    }
}

fn events_for(lives: &[Life]) -> Vec<InboundEvent> {
    let start: DateTime<Utc> = "2026-11-28T09:00:00Z".parse().expect("time");
    let mut out = Vec::new();
    for (n, life) in lives.iter().enumerate() {
        for (step, (status, quantity, fulfilled)) in life.iter().enumerate() {
            let at = start + Duration::minutes(step as i64);
            let snapshot = OrderSnapshot {
                order_id: format!("O-{n}"),
                status: *status,
                lines: vec![
                    LineSnapshot {
                        line_id: "a".into(),
                        sku: "P-A".into(),
                        quantity: *quantity,
                        fulfilled_quantity: *fulfilled,
                        unit_price_minor: 100,
                    },
                    LineSnapshot {
                        line_id: "b".into(),
                        sku: "P-B".into(),
                        quantity: 1,
                        fulfilled_quantity: 0,
                        unit_price_minor: 100,
                    },
                ],
                currency: "GBP".into(),
                total_minor: 100,
                customer: None,
                location: None,
                ship_to: None,
                placed_at: start,
                updated_at: at,
            };
            let event = if step == 0 {
                CommerceEvent::OrderPlaced(snapshot)
            } else {
                CommerceEvent::OrderUpdated(snapshot)
            };
            out.push(InboundEvent {
                event_id: format!("O-{n}-{step}"),
                occurred_at: at,
                event,
            });
        }
    }
    out
}

async fn apply_all(store: &Store, shop: &Shop, events: &[InboundEvent]) {
    let repos = store.scoped(&shop.scope);
    for event in events {
        repos
            .apply_event(&shop.connection, event)
            .await
            .expect("apply");
    }
}

async fn snapshot(store: &Store, shop: &Shop) -> Vec<(StockLevel, Vec<i64>)> {
    let repos = store.scoped(&shop.scope);
    let mut out = Vec::new();
    for sku in shop.parts.iter().chain([&shop.kit]) {
        let level = repos
            .levels(sku)
            .await
            .expect("levels")
            .into_iter()
            .find(|l| l.location_id == shop.warehouse)
            .map(|l| l.level)
            .unwrap_or_default();
        let offers = repos
            .availability_of(sku)
            .await
            .expect("offers")
            .into_iter()
            .map(|a| a.available)
            .collect();
        out.push((level, offers));
    }
    out
}

async fn check_invariants(store: &Store, shop: &Shop) {
    let repos = store.scoped(&shop.scope);
    let mut levels = Vec::new();
    for sku in &shop.parts {
        let movements = repos
            .movements(sku, None, 10_000)
            .await
            .expect("movements")
            .items;
        let level = repos.levels(sku).await.expect("levels")[0].level;
        let on_hand: i64 = movements
            .iter()
            .filter(|m| {
                !matches!(
                    m.reason,
                    MovementReason::Reservation | MovementReason::Release
                )
            })
            .map(|m| m.delta)
            .sum();
        let committed: i64 = movements
            .iter()
            .filter(|m| {
                matches!(
                    m.reason,
                    MovementReason::Reservation | MovementReason::Release
                )
            })
            .map(|m| m.delta)
            .sum();
        assert_eq!(level.on_hand, on_hand, "on hand is the sum of the ledger");
        assert_eq!(
            level.committed, committed,
            "committed is the sum of reservations and releases"
        );
        for offer in repos.availability_of(sku).await.expect("offers") {
            assert!(offer.available >= 0, "offers are never negative");
            assert_eq!(offer.available, (level.sellable() - 1).max(0));
        }
        levels.push(level);
    }
    let kit_offer = repos.availability_of(&shop.kit).await.expect("offers")[0].available;
    let kits = kits_sellable([(levels[0], 2), (levels[1], 1)]);
    assert_eq!(
        kit_offer,
        (kits - 1).max(0),
        "the kit offer follows its components"
    );
}

fn life() -> impl Strategy<Value = Life> {
    let state = (
        prop::sample::select(OrderStatus::ALL.to_vec()),
        1i64..4,
        0i64..4,
    );
    prop::collection::vec(state, 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        ..ProptestConfig::default()
    })]

    #[test]
    fn interleavings_duplicates_and_reorderings_converge(
        lives in prop::collection::vec(life(), 1..5),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let db = TestDatabase::create().await.expect("db");
            let in_order = shop(&db.store, "ordered").await;
            let shuffled = shop(&db.store, "shuffled").await;
            let events = events_for(&lives);
            apply_all(&db.store, &in_order, &events).await;
            // Every event at least once, in a random order, with random repeats.
            let mut chaotic: Vec<InboundEvent> = order.iter().map(|i| events[i.index(events.len())].clone()).collect();
            chaotic.extend(events.iter().cloned());
            let mut seed = order.len() as u64 + 7;
            for i in (1..chaotic.len()).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                chaotic.swap(i, (seed >> 33) as usize % (i + 1));
            }
            apply_all(&db.store, &shuffled, &chaotic).await;
            check_invariants(&db.store, &in_order).await;
            check_invariants(&db.store, &shuffled).await;
            assert_eq!(snapshot(&db.store, &in_order).await, snapshot(&db.store, &shuffled).await);
            db.cleanup().await.expect("cleanup");
        });
    }
}
