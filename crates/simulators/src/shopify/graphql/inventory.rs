//! The inventory mutations: `inventorySetQuantities` (absolute, with compare-and-set
//! through `changeFromQuantity`, or the 2025-01 `compareQuantity`) and
//! `inventoryAdjustQuantities` (deltas). Both need `@idempotent(key:)`; a repeated key
//! replays the first result. At most 250 quantities; every one is validated before any is
//! written, and a write Concord makes is announced by `inventory_levels/update` like any
//! other change.

use chrono::Utc;
use serde_json::{Value, json};

use super::{
    super::{ITEM_BASE, LOCATION_BASE, gid, item_id, parse_gid, time},
    Ctx, GqlError, MAX_PAGE, Resolved, location_node,
};
use crate::{
    core::{Cause, Change},
    gql::Field,
    server::lock,
};

/// Runs a mutation root field.
pub(super) fn mutate(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    match field.name.as_str() {
        "inventorySetQuantities" => inventory_write(ctx, field, Write::Set),
        "inventoryAdjustQuantities" => inventory_write(ctx, field, Write::Adjust),
        other => Err(GqlError::new(
            format!("Field '{other}' doesn't exist on type 'Mutation'"),
            "undefinedField",
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Set,
    Adjust,
}

/// The reasons Shopify accepts for inventory changes.
const REASONS: [&str; 17] = [
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];

/// One validated change.
struct Planned {
    product: u64,
    location: usize,
    target: i64,
}

fn user_error(path: &[&str], message: impl Into<String>, code: &str) -> Value {
    json!({"field": path, "message": message.into(), "code": code})
}

fn inventory_write(ctx: &Ctx<'_>, field: &Field, write: Write) -> Resolved {
    let key = field
        .directive("idempotent")
        .and_then(|d| d.arg("key", ctx.vars))
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| {
            GqlError::new(
                format!(
                    "The @idempotent directive with a key is required for {}.",
                    field.name
                ),
                "BAD_REQUEST",
            )
        })?;
    let mut replays = lock(&ctx.shop.idempotent);
    if let Some(result) = replays.get(&key) {
        return Ok((result.clone(), None));
    }
    let input = match field.arg("input", ctx.vars) {
        Some(Value::Object(map)) => map,
        _ => {
            return Err(GqlError::new(
                format!(
                    "Field '{}' is missing required arguments: input",
                    field.name
                ),
                "missingRequiredArguments",
            ));
        }
    };
    let list_name = match write {
        Write::Set => "quantities",
        Write::Adjust => "changes",
    };
    let entries = input
        .get(list_name)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.len() as i64 > MAX_PAGE {
        return Err(GqlError::new(
            format!(
                "The input array size of {} is greater than the maximum allowed of {MAX_PAGE}.",
                entries.len()
            ),
            "MAX_INPUT_SIZE_EXCEEDED",
        ));
    }
    let name = input
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let reason = input
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let reference = input
        .get("referenceDocumentUri")
        .cloned()
        .unwrap_or(Value::Null);
    let ignore_compare = input
        .get("ignoreCompareQuantity")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let now = Utc::now();
    let result = ctx.inner.mutate(|core| {
        let mut errors = Vec::new();
        if name != "available" && name != "on_hand" {
            errors.push(user_error(
                &["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            ));
        }
        if !REASONS.contains(&reason.as_str()) {
            errors.push(user_error(
                &["input", "reason"],
                "The specified reason is invalid.",
                "INVALID_REASON",
            ));
        }
        let mut planned: Vec<Planned> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let index = i.to_string();
            let at = |f: &'static str| vec!["input", list_name, index.as_str(), f];
            let product = entry
                .get("inventoryItemId")
                .and_then(Value::as_str)
                .and_then(|id| parse_gid(id, "InventoryItem", ITEM_BASE))
                .filter(|p| core.product(*p).is_some());
            let location = entry
                .get("locationId")
                .and_then(Value::as_str)
                .and_then(|id| parse_gid(id, "Location", LOCATION_BASE))
                .and_then(|n| core.locations.iter().position(|l| l.id == n));
            let (Some(product), Some(location)) = (product, location) else {
                if product.is_none() {
                    errors.push(user_error(
                        &at("inventoryItemId"),
                        "The specified inventory item could not be found.",
                        "INVALID_INVENTORY_ITEM",
                    ));
                } else {
                    errors.push(user_error(
                        &at("locationId"),
                        "The specified location could not be found.",
                        "INVALID_LOCATION",
                    ));
                }
                continue;
            };
            if planned
                .iter()
                .any(|p| p.product == product && p.location == location)
            {
                errors.push(user_error(
                    &at("inventoryItemId"),
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                ));
                continue;
            }
            let current = core.level(product, location).map(|l| l.quantity).unwrap_or(0);
            let amount_field = if write == Write::Set { "quantity" } else { "delta" };
            let Some(amount) = entry.get(amount_field).and_then(Value::as_i64) else {
                errors.push(user_error(
                    &at(if write == Write::Set { "quantity" } else { "delta" }),
                    format!("Expected value to not be null for {amount_field}"),
                    "INVALID",
                ));
                continue;
            };
            // Compare-and-set: `changeFromQuantity` (2026-04; null skips the check) or the
            // older `compareQuantity` / `ignoreCompareQuantity`.
            match (entry.get("changeFromQuantity"), entry.get("compareQuantity")) {
                (Some(Value::Null), _) => {}
                (Some(expected), _) => {
                    if expected.as_i64() != Some(current) {
                        errors.push(user_error(
                            &at("changeFromQuantity"),
                            format!("The changeFromQuantity ({expected}) doesn't match the current quantity ({current})."),
                            "CHANGE_FROM_QUANTITY_STALE",
                        ));
                        continue;
                    }
                }
                (None, Some(expected)) if !expected.is_null() => {
                    if expected.as_i64() != Some(current) {
                        errors.push(user_error(
                            &at("compareQuantity"),
                            "The compareQuantity value does not match persisted value.",
                            "COMPARE_QUANTITY_STALE",
                        ));
                        continue;
                    }
                }
                _ if write == Write::Adjust || ignore_compare => {}
                _ => {
                    errors.push(user_error(
                        &at("changeFromQuantity"),
                        "The changeFromQuantity argument must be given to each quantity (null skips the check).",
                        "COMPARE_QUANTITY_REQUIRED",
                    ));
                    continue;
                }
            }
            let target = if write == Write::Set { amount } else { current + amount };
            if target.abs() > 1_000_000_000 {
                errors.push(user_error(
                    &at(amount_field),
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                ));
                continue;
            }
            if name == "on_hand" && target < 0 {
                errors.push(user_error(
                    &at(amount_field),
                    "The quantity can't be negative.",
                    "INVALID_QUANTITY_NEGATIVE",
                ));
                continue;
            }
            planned.push(Planned {
                product,
                location,
                target,
            });
        }
        if !errors.is_empty() {
            return Ok::<_, GqlError>((
                json!({"inventoryAdjustmentGroup": null, "userErrors": errors}),
                Vec::new(),
            ));
        }
        let mut changes: Vec<Change> = Vec::new();
        let mut reported = Vec::new();
        for plan in &planned {
            let before = core
                .level(plan.product, plan.location)
                .map(|l| l.quantity)
                .unwrap_or(0);
            if let Ok(Some(change)) =
                core.set_stock(plan.product, plan.location, plan.target, Cause::Api, now)
            {
                changes.push(change);
            }
            let delta = plan.target - before;
            if delta == 0 {
                continue;
            }
            let sku = core
                .product(plan.product)
                .map(|p| p.sku.clone())
                .unwrap_or_default();
            for quantity_name in [name.as_str(), if name == "available" { "on_hand" } else { "available" }] {
                reported.push(json!({
                    "name": quantity_name,
                    "delta": delta,
                    "quantityAfterChange": plan.target,
                    "item": {"id": gid("InventoryItem", item_id(plan.product)), "sku": sku},
                    "location": location_node(core, plan.location),
                    "ledgerDocumentUri": null,
                }));
            }
        }
        let group = json!({
            "__typename": "InventoryAdjustmentGroup",
            "id": gid("InventoryAdjustmentGroup", ctx.shop.next_group_id()),
            "createdAt": time(now),
            "reason": reason,
            "referenceDocumentUri": reference,
            "app": {"id": gid("App", 1), "title": "Concord"},
            "changes": reported,
        });
        Ok((
            json!({"inventoryAdjustmentGroup": group, "userErrors": []}),
            changes,
        ))
    })?;
    if result
        .get("userErrors")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        ctx.inner.count_write(entries.len());
    }
    replays.insert(key, result.clone());
    Ok((result, None))
}
