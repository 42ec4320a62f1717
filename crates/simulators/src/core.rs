//! The shop every simulator keeps, in platform-neutral terms: a catalog with stock per
//! location, orders with their payment and refunds, and the log of every change. Platform
//! modules render it in their wire formats and turn its [`Change`]s into webhooks.
//!
//! Ids are small sequential numbers per kind (`product 1`, `order 1`, …); each platform
//! module maps them to the ids it shows (`gid://shopify/ProductVariant/…`, Square's base32
//! ids, …). Money is integer minor units plus an ISO currency, never floats.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::money::Currency;
use serde::Serialize;

use crate::config::SeedProduct;

/// A point in time (UTC).
pub(crate) type Time = DateTime<Utc>;

mod payments;
mod refunds;
mod variants;

pub(crate) use variants::Parent;

/// One product (single-variant title) and its stock at every location.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: u64,
    pub sku: String,
    pub barcode: String,
    pub title: String,
    pub price_minor: i64,
    pub currency: String,
    /// Stock per location, indexed like [`Core::locations`].
    pub levels: Vec<Level>,
    /// The product this is a variant of ([`Core::parent`]).
    pub parent: Option<u64>,
    /// What tells it from its sibling variants (`Blu-ray`).
    pub variant: Option<String>,
    pub created_at: Time,
    /// When the product record itself (not its stock) last changed.
    pub updated_at: Time,
}

impl Product {
    /// Units over all locations.
    pub fn total_stock(&self) -> i64 {
        self.levels.iter().map(|l| l.quantity).sum()
    }

    /// The latest change to the record or any of its stock levels.
    pub fn last_modified(&self) -> Time {
        self.levels
            .iter()
            .map(|l| l.updated_at)
            .fold(self.updated_at, Time::max)
    }
}

/// Stock of one product at one location.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level {
    pub quantity: i64,
    pub updated_at: Time,
}

/// A store or warehouse.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    /// 1-based.
    pub id: u64,
    pub name: String,
    pub created_at: Time,
}

/// Where an order stands with its money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OrderStatus {
    /// Created through an API, not paid yet (a Stripe PaymentIntent awaiting confirmation).
    AwaitingPayment,
    /// The last payment attempt was declined.
    Failed,
    Paid,
    PartiallyRefunded,
    Refunded,
}

/// An order (a sale, or for Stripe a payment) with its lines, payment and refunds.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    /// The human-facing number (`#1001`).
    pub number: u64,
    /// Index into [`Core::locations`].
    pub location: usize,
    pub currency: String,
    /// Empty for a payment that is only an amount.
    pub lines: Vec<Line>,
    pub total_minor: i64,
    pub status: OrderStatus,
    pub created_at: Time,
    pub updated_at: Time,
    pub payment: Option<Payment>,
    pub refunds: Vec<Refund>,
    /// Free key/value pairs (Stripe `metadata`).
    pub metadata: Vec<(String, String)>,
    /// The payment method given before payment (Stripe `payment_method`).
    pub payment_method: Option<String>,
    pub description: Option<String>,
    /// Why the last payment attempt failed.
    pub failure: Option<String>,
    /// Bumped on every change (Square `version`).
    pub version: u32,
}

impl Order {
    /// Minor units refunded so far.
    pub fn refunded_minor(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount_minor).sum()
    }

    /// The line with id `line`.
    pub fn line(&self, line: u64) -> Option<&Line> {
        self.lines.iter().find(|l| l.id == line)
    }
}

/// One order line.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub id: u64,
    pub product: u64,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    /// Units refunded so far.
    pub refunded: i64,
}

impl Line {
    pub fn total_minor(&self) -> i64 {
        self.quantity * self.unit_price_minor
    }
}

/// The payment that settled an order.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub id: u64,
    pub amount_minor: i64,
    pub created_at: Time,
    /// `card`, `cash`, or the platform's payment method id.
    pub method: String,
}

/// Money (and possibly units) given back.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: u64,
    pub created_at: Time,
    pub amount_minor: i64,
    pub lines: Vec<RefundLine>,
    /// Whether the units went back into stock.
    pub restock: bool,
    pub reason: Option<String>,
}

/// Units of one order line in a refund.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefundLine {
    pub line: u64,
    pub quantity: i64,
}

/// Something that happened in the shop; platforms turn these into webhooks and events.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Change {
    ProductCreated {
        product: u64,
    },
    /// The product record (title, price, barcode, SKU) changed.
    ProductUpdated {
        product: u64,
    },
    /// An order was placed (a sale reports [`Change::OrderPaid`] right after it; an API
    /// payment awaits confirmation).
    OrderCreated {
        order: u64,
    },
    /// An order created earlier was paid.
    OrderPaid {
        order: u64,
    },
    /// A payment attempt was declined.
    PaymentFailed {
        order: u64,
    },
    RefundCreated {
        order: u64,
        refund: u64,
    },
    StockChanged {
        product: u64,
        location: usize,
        before: i64,
        after: i64,
        cause: Cause,
        at: Time,
    },
}

/// Why stock changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub(crate) enum Cause {
    /// A sale took the units.
    Sale { order: u64 },
    /// A refund put units back.
    Refund { order: u64, refund: u64 },
    /// The merchant edited the figure in the platform's admin or POS.
    Merchant,
    /// An app (Concord) wrote it through the platform API.
    Api,
}

/// A change as logged, in order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Logged {
    pub seq: u64,
    pub at: Time,
    #[serde(flatten)]
    pub change: Change,
}

/// Why the shop refused an operation; the text is shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CoreError {
    NotFound(String),
    Conflict(String),
    Invalid(String),
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoreError::NotFound(m) | CoreError::Conflict(m) | CoreError::Invalid(m) => {
                f.write_str(m)
            }
        }
    }
}

/// What a refund gives back.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefundSpec {
    /// Only this SKU's line; all lines with units left when `None`.
    pub sku: Option<String>,
    /// Units (of the chosen line); everything left when `None`.
    pub quantity: Option<i64>,
    /// Money instead of units (payments without lines, or a partial amount).
    pub amount_minor: Option<i64>,
    pub restock: bool,
    pub reason: Option<String>,
}

/// Fields of a product record to change.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProductEdit {
    pub title: Option<String>,
    pub price_minor: Option<i64>,
    pub barcode: Option<String>,
    pub sku: Option<String>,
}

/// A payment created through an API before it is paid.
#[derive(Debug, Clone, Default)]
pub(crate) struct PaymentSpec {
    pub amount_minor: i64,
    pub currency: String,
    pub metadata: Vec<(String, String)>,
    pub payment_method: Option<String>,
    pub description: Option<String>,
}

/// The shop.
#[derive(Debug)]
pub(crate) struct Core {
    pub products: Vec<Product>,
    /// Products with variants, by the title their variants name.
    pub parents: Vec<Parent>,
    by_sku: HashMap<String, usize>,
    pub locations: Vec<Location>,
    pub orders: Vec<Order>,
    /// The id of `orders[0]`.
    first_order: u64,
    log: Vec<Logged>,
    next_line: u64,
    next_refund: u64,
    next_payment: u64,
    /// Sales may take stock below zero.
    allow_negative: bool,
    /// Whether this platform keeps stock at all (Stripe does not).
    track_stock: bool,
}

/// How many changes the log keeps.
const LOG_LIMIT: usize = 100_000;

impl Core {
    /// An empty shop with these locations (at least one).
    pub fn new(locations: &[String], allow_negative: bool, track_stock: bool, now: Time) -> Self {
        let names: Vec<String> = if locations.is_empty() {
            vec!["Main Store".to_owned()]
        } else {
            locations.to_vec()
        };
        Self {
            products: Vec::new(),
            parents: Vec::new(),
            by_sku: HashMap::new(),
            locations: names
                .into_iter()
                .enumerate()
                .map(|(i, name)| Location {
                    id: i as u64 + 1,
                    name,
                    created_at: now,
                })
                .collect(),
            orders: Vec::new(),
            log: Vec::new(),
            first_order: 1,
            next_line: 1,
            next_refund: 1,
            next_payment: 1,
            allow_negative,
            track_stock,
        }
    }

    /// Whether this shop keeps stock.
    pub fn tracks_stock(&self) -> bool {
        self.track_stock
    }

    /// The product with id `id`.
    pub fn product(&self, id: u64) -> Option<&Product> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.products.get(index)
    }

    /// The product with SKU `sku`.
    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        self.by_sku.get(sku).and_then(|&i| self.products.get(i))
    }

    /// Numbers orders, their lines, payments and refunds from `first` on, so a simulator
    /// started again never reuses an id the platform issued before.
    pub fn start_ids_at(&mut self, first: u64) {
        let first = first.max(1);
        self.first_order = first;
        self.next_line = first;
        self.next_refund = first;
        self.next_payment = first;
    }

    /// The order with id `id`.
    pub fn order(&self, id: u64) -> Option<&Order> {
        let index = usize::try_from(id.checked_sub(self.first_order)?).ok()?;
        self.orders.get(index)
    }

    /// The order with id `id`, for edits that are not shop events (Stripe metadata).
    pub fn order_mut(&mut self, id: u64) -> Option<&mut Order> {
        let index = usize::try_from(id.checked_sub(self.first_order)?).ok()?;
        self.orders.get_mut(index)
    }

    /// The location named `name` (any case) or with numeric id `name`.
    pub fn location_index(&self, name: &str) -> Option<usize> {
        let wanted = name.trim();
        self.locations
            .iter()
            .position(|l| l.name.eq_ignore_ascii_case(wanted))
            .or_else(|| {
                let id: u64 = wanted.parse().ok()?;
                self.locations.iter().position(|l| l.id == id)
            })
    }

    /// Adds a product to the catalog.
    pub fn add_product(
        &mut self,
        seed: &SeedProduct,
        now: Time,
    ) -> Result<(u64, Vec<Change>), CoreError> {
        let sku = seed.sku.trim();
        if sku.is_empty() {
            return Err(CoreError::Invalid("a product needs a SKU".into()));
        }
        if self.by_sku.contains_key(sku) {
            return Err(CoreError::Conflict(format!("SKU `{sku}` already exists")));
        }
        if seed.price_minor < 0 {
            return Err(CoreError::Invalid(format!(
                "the price of `{sku}` is negative"
            )));
        }
        let currency = Currency::parse(&seed.currency)
            .map_err(|e| CoreError::Invalid(e.message))?
            .to_string();
        let mut levels = vec![
            Level {
                quantity: 0,
                updated_at: now
            };
            self.locations.len()
        ];
        if let Some(first) = levels.first_mut() {
            first.quantity = seed.quantity;
        }
        for (name, quantity) in &seed.at_locations {
            let index = self.location_index(name).ok_or_else(|| {
                CoreError::NotFound(format!("no location called `{name}` for `{sku}`"))
            })?;
            levels[index].quantity = *quantity;
        }
        let parent = seed
            .parent
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|title| self.parent_named(title, now));
        let id = self.products.len() as u64 + 1;
        self.by_sku.insert(sku.to_owned(), self.products.len());
        self.products.push(Product {
            id,
            sku: sku.to_owned(),
            barcode: seed.barcode.trim().to_owned(),
            title: seed.title.clone(),
            price_minor: seed.price_minor,
            currency,
            levels,
            parent,
            variant: seed.variant.clone().filter(|v| !v.trim().is_empty()),
            created_at: now,
            updated_at: now,
        });
        Ok((id, vec![Change::ProductCreated { product: id }]))
    }

    /// Edits the product record; `None` keeps a field. No change when nothing differs.
    pub fn update_product(
        &mut self,
        product: u64,
        edit: &ProductEdit,
        now: Time,
    ) -> Result<Vec<Change>, CoreError> {
        let index = usize::try_from(product)
            .ok()
            .and_then(|p| p.checked_sub(1))
            .filter(|i| *i < self.products.len())
            .ok_or_else(|| CoreError::NotFound(format!("no product {product}")))?;
        if let Some(sku) = &edit.sku {
            let sku = sku.trim();
            if sku.is_empty() {
                return Err(CoreError::Invalid("a product needs a SKU".into()));
            }
            if self.by_sku.get(sku).is_some_and(|&i| i != index) {
                return Err(CoreError::Conflict(format!("SKU `{sku}` already exists")));
            }
        }
        if edit.price_minor.is_some_and(|p| p < 0) {
            return Err(CoreError::Invalid("the price is negative".into()));
        }
        let p = &mut self.products[index];
        let mut changed = false;
        if let Some(title) = &edit.title
            && *title != p.title
        {
            p.title = title.clone();
            changed = true;
        }
        if let Some(price) = edit.price_minor
            && price != p.price_minor
        {
            p.price_minor = price;
            changed = true;
        }
        if let Some(barcode) = &edit.barcode
            && barcode.trim() != p.barcode
        {
            p.barcode = barcode.trim().to_owned();
            changed = true;
        }
        if let Some(sku) = &edit.sku
            && sku.trim() != p.sku
        {
            let old = std::mem::replace(&mut p.sku, sku.trim().to_owned());
            self.by_sku.remove(&old);
            self.by_sku.insert(sku.trim().to_owned(), index);
            changed = true;
        }
        if !changed {
            return Ok(Vec::new());
        }
        self.products[index].updated_at = now;
        Ok(vec![Change::ProductUpdated { product }])
    }

    /// A customer buys `lines` (product, units) at `location`: creates a paid order and,
    /// where the shop keeps stock, takes the units from it. Refused when a product is short
    /// unless negative stock is allowed.
    pub fn sell(
        &mut self,
        lines: &[(u64, i64)],
        location: usize,
        method: &str,
        now: Time,
    ) -> Result<(u64, Vec<Change>), CoreError> {
        if lines.is_empty() {
            return Err(CoreError::Invalid("a sale needs at least one line".into()));
        }
        if location >= self.locations.len() {
            return Err(CoreError::NotFound("no such location".into()));
        }
        let mut wanted: HashMap<u64, i64> = HashMap::new();
        let mut currency: Option<String> = None;
        for &(product, quantity) in lines {
            let p = self
                .product(product)
                .ok_or_else(|| CoreError::NotFound(format!("no product {product}")))?;
            if quantity <= 0 {
                return Err(CoreError::Invalid(format!(
                    "the quantity of `{}` must be at least 1",
                    p.sku
                )));
            }
            match &currency {
                Some(c) if *c != p.currency => {
                    return Err(CoreError::Invalid(format!(
                        "`{}` is priced in {}, the order in {c}",
                        p.sku, p.currency
                    )));
                }
                _ => currency = Some(p.currency.clone()),
            }
            *wanted.entry(product).or_default() += quantity;
        }
        if self.track_stock && !self.allow_negative {
            for (&product, &quantity) in &wanted {
                if let Some(p) = self.product(product) {
                    let available = p.levels[location].quantity;
                    if available < quantity {
                        return Err(CoreError::Conflict(format!(
                            "`{}` is out of stock at {}: {available} available, {quantity} wanted",
                            p.sku, self.locations[location].name
                        )));
                    }
                }
            }
        }
        let id = self.first_order + self.orders.len() as u64;
        let mut order_lines = Vec::with_capacity(lines.len());
        for &(product, quantity) in lines {
            let Some(p) = self.product(product) else {
                continue;
            };
            order_lines.push(Line {
                id: self.next_line,
                product,
                sku: p.sku.clone(),
                title: p.title.clone(),
                quantity,
                unit_price_minor: p.price_minor,
                refunded: 0,
            });
            self.next_line += 1;
        }
        let total_minor = order_lines.iter().map(Line::total_minor).sum();
        let payment = Payment {
            id: self.next_payment,
            amount_minor: total_minor,
            created_at: now,
            method: method.to_owned(),
        };
        self.next_payment += 1;
        self.orders.push(Order {
            id,
            number: 1000 + id,
            location,
            currency: currency.unwrap_or_else(|| "USD".into()),
            lines: order_lines,
            total_minor,
            status: OrderStatus::Paid,
            created_at: now,
            updated_at: now,
            payment: Some(payment),
            refunds: Vec::new(),
            metadata: Vec::new(),
            payment_method: Some(method.to_owned()),
            description: None,
            failure: None,
            version: 1,
        });
        let mut changes = vec![
            Change::OrderCreated { order: id },
            Change::OrderPaid { order: id },
        ];
        if self.track_stock {
            for &(product, quantity) in lines {
                changes.extend(self.move_stock(
                    product,
                    location,
                    -quantity,
                    Cause::Sale { order: id },
                    now,
                )?);
            }
        }
        Ok((id, changes))
    }

    /// Sets the stock of `product` at `location` to `quantity`; no change when it already is.
    pub fn set_stock(
        &mut self,
        product: u64,
        location: usize,
        quantity: i64,
        cause: Cause,
        now: Time,
    ) -> Result<Option<Change>, CoreError> {
        let before = self.level(product, location)?.quantity;
        self.move_stock(product, location, quantity - before, cause, now)
    }

    /// Moves the stock of `product` at `location` by `delta`; no change when `delta` is 0.
    pub fn move_stock(
        &mut self,
        product: u64,
        location: usize,
        delta: i64,
        cause: Cause,
        now: Time,
    ) -> Result<Option<Change>, CoreError> {
        if !self.track_stock {
            return Err(CoreError::NotFound("this platform keeps no stock".into()));
        }
        let level = self.level_mut(product, location)?;
        if delta == 0 {
            return Ok(None);
        }
        let before = level.quantity;
        level.quantity += delta;
        level.updated_at = now;
        Ok(Some(Change::StockChanged {
            product,
            location,
            before,
            after: before + delta,
            cause,
            at: now,
        }))
    }

    /// The stock level of `product` at `location`.
    pub fn level(&self, product: u64, location: usize) -> Result<&Level, CoreError> {
        self.product(product)
            .ok_or_else(|| CoreError::NotFound(format!("no product {product}")))?
            .levels
            .get(location)
            .ok_or_else(|| CoreError::NotFound("no such location".into()))
    }

    fn level_mut(&mut self, product: u64, location: usize) -> Result<&mut Level, CoreError> {
        let index = usize::try_from(product)
            .ok()
            .and_then(|p| p.checked_sub(1))
            .ok_or_else(|| CoreError::NotFound(format!("no product {product}")))?;
        self.products
            .get_mut(index)
            .ok_or_else(|| CoreError::NotFound(format!("no product {product}")))?
            .levels
            .get_mut(location)
            .ok_or_else(|| CoreError::NotFound("no such location".into()))
    }

    /// Appends `change` to the log.
    pub fn record(&mut self, change: Change, at: Time) {
        let seq = self.log.last().map_or(1, |l| l.seq + 1);
        if self.log.len() >= LOG_LIMIT {
            self.log.drain(..LOG_LIMIT / 10);
        }
        self.log.push(Logged { seq, at, change });
    }

    /// Logged changes after sequence number `after`, at most `limit`.
    pub fn log_since(&self, after: u64, limit: usize) -> Vec<Logged> {
        self.log
            .iter()
            .filter(|l| l.seq > after)
            .take(limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests;
