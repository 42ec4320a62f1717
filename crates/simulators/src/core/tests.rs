use super::*;

fn shop() -> Core {
    let now = Utc::now();
    let mut core = Core::new(&["A".into(), "B".into()], false, true, now);
    core.add_product(
        &SeedProduct::new("DVD-1", "0001", "Film", 1999, "usd", 3),
        now,
    )
    .expect("seed");
    core.add_product(
        &SeedProduct::new("DVD-2", "0002", "Other", 500, "USD", 1),
        now,
    )
    .expect("seed");
    core
}

#[test]
fn a_sale_takes_stock_and_refuses_what_is_not_there() {
    let mut core = shop();
    let now = Utc::now();
    let (order, changes) = core.sell(&[(1, 2)], 0, "card", now).expect("sale");
    assert_eq!(changes.len(), 3);
    assert_eq!(core.level(1, 0).expect("level").quantity, 1);
    assert_eq!(core.order(order).expect("order").total_minor, 3998);
    let refused = core.sell(&[(1, 2)], 0, "card", now);
    assert!(matches!(refused, Err(CoreError::Conflict(_))));
    assert_eq!(core.level(1, 0).expect("level").quantity, 1);
    assert!(matches!(
        core.sell(&[(2, 1)], 1, "card", now),
        Err(CoreError::Conflict(_))
    ));
}

#[test]
fn refunds_restock_and_never_exceed_the_sale() {
    let mut core = shop();
    let now = Utc::now();
    let (order, _) = core.sell(&[(1, 2), (2, 1)], 0, "card", now).expect("sale");
    let spec = RefundSpec {
        sku: Some("DVD-1".into()),
        quantity: Some(1),
        restock: true,
        ..RefundSpec::default()
    };
    let (_, changes) = core.refund(order, &spec, now).expect("refund");
    assert_eq!(changes.len(), 2);
    assert_eq!(core.level(1, 0).expect("level").quantity, 2);
    assert_eq!(
        core.order(order).expect("order").status,
        OrderStatus::PartiallyRefunded
    );
    let too_many = RefundSpec {
        sku: Some("DVD-1".into()),
        quantity: Some(5),
        ..RefundSpec::default()
    };
    assert!(matches!(
        core.refund(order, &too_many, now),
        Err(CoreError::Conflict(_))
    ));
    let rest = RefundSpec::default();
    core.refund(order, &rest, now).expect("rest");
    assert_eq!(
        core.order(order).expect("order").status,
        OrderStatus::Refunded
    );
    assert!(core.refund(order, &rest, now).is_err());
}

#[test]
fn skus_are_unique_and_currencies_valid() {
    let mut core = shop();
    let now = Utc::now();
    let dup = SeedProduct::new("DVD-1", "", "Again", 1, "USD", 0);
    assert!(matches!(
        core.add_product(&dup, now),
        Err(CoreError::Conflict(_))
    ));
    let bad = SeedProduct::new("DVD-9", "", "Bad", 1, "US", 0);
    assert!(matches!(
        core.add_product(&bad, now),
        Err(CoreError::Invalid(_))
    ));
    assert_eq!(core.location_index("b"), Some(1));
    assert_eq!(core.location_index("2"), Some(1));
}
