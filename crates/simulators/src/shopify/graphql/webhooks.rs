//! Webhook subscriptions: `webhookSubscriptionCreate(topic:, webhookSubscription: {
//! callbackUrl, format })`, `webhookSubscriptionDelete(id:)`, and the queries
//! `webhookSubscriptions(first:, topics:, callbackUrl:)` and `webhookSubscription(id:)`.
//!
//! A subscription routes the REST-named topic the simulator sends (`ORDERS_CREATE` →
//! `orders/create`) to its callback URL, signed like every Shopify delivery (with the
//! simulator's `webhook_secret`, which stands for the app's client secret). The same topic
//! and address twice is refused with Shopify's user error; two subscriptions to one topic
//! at different addresses each receive every delivery.

use chrono::Utc;
use serde_json::{Value, json};

use super::{
    super::{API_VERSION, gid, parse_gid, time},
    Ctx, GqlError, Resolved, connection,
};
use crate::{
    core::Time,
    gql::Field,
    server::{Subscription, lock},
};

/// Shopify-looking numbers for subscription ids.
const WEBHOOK_BASE: u64 = 1_470_000_000;

/// One subscription made through the API.
#[derive(Debug, Clone)]
pub(crate) struct WebhookSubscription {
    pub id: u64,
    /// The GraphQL enum value (`ORDERS_CREATE`).
    pub topic: String,
    pub callback_url: String,
    pub created_at: Time,
}

impl WebhookSubscription {
    fn gid(&self) -> String {
        gid("WebhookSubscription", WEBHOOK_BASE + self.id)
    }

    fn node(&self) -> Value {
        json!({
            "__typename": "WebhookSubscription",
            "id": self.gid(),
            "legacyResourceId": (WEBHOOK_BASE + self.id).to_string(),
            "topic": self.topic,
            "format": "JSON",
            "callbackUrl": self.callback_url,
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": self.callback_url},
            "includeFields": [],
            "metafieldNamespaces": [],
            "filter": null,
            "apiVersion": {
                "__typename": "ApiVersion",
                "handle": API_VERSION,
                "displayName": API_VERSION,
                "supported": true,
            },
            "createdAt": time(self.created_at),
            "updatedAt": time(self.created_at),
        })
    }
}

/// The REST topic (`orders/create`, `inventory_levels/update`) of a
/// `WebhookSubscriptionTopic` value: the last word is the action.
pub(crate) fn rest_topic(topic: &str) -> String {
    match topic.rsplit_once('_') {
        Some((resource, action)) => {
            format!("{}/{}", resource.to_lowercase(), action.to_lowercase())
        }
        None => topic.to_lowercase(),
    }
}

/// Whether `topic` looks like a `WebhookSubscriptionTopic` value (`ORDERS_CREATE`).
fn valid_topic(topic: &str) -> bool {
    topic.contains('_')
        && !topic.starts_with('_')
        && !topic.ends_with('_')
        && topic
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn valid_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

fn user_error(field: &[&str], message: &str) -> Value {
    json!({"field": field, "message": message})
}

/// Runs `webhookSubscriptionCreate` or `webhookSubscriptionDelete`.
pub(super) fn mutate(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    match field.name.as_str() {
        "webhookSubscriptionDelete" => delete(ctx, field),
        _ => create(ctx, field),
    }
}

fn create(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let topic = match field.arg("topic", ctx.vars) {
        Some(Value::String(topic)) if valid_topic(&topic) => topic,
        Some(other) => {
            return Err(GqlError::new(
                format!(
                    "Argument 'topic' on Field 'webhookSubscriptionCreate' has an invalid value ({other}). Expected type 'WebhookSubscriptionTopic!'."
                ),
                "argumentLiteralsIncompatible",
            ));
        }
        None => {
            return Err(GqlError::new(
                "Field 'webhookSubscriptionCreate' is missing required arguments: topic",
                "missingRequiredArguments",
            ));
        }
    };
    let Some(Value::Object(input)) = field.arg("webhookSubscription", ctx.vars) else {
        return Err(GqlError::new(
            "Field 'webhookSubscriptionCreate' is missing required arguments: webhookSubscription",
            "missingRequiredArguments",
        ));
    };
    let url = input
        .get("callbackUrl")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let refuse = |message: &str| {
        Ok((
            json!({
                "webhookSubscription": null,
                "userErrors": [user_error(&["webhookSubscription", "callbackUrl"], message)],
            }),
            None,
        ))
    };
    if url.is_empty() {
        return refuse("Address can't be blank");
    }
    if !valid_url(&url) {
        return refuse("Address is invalid");
    }
    if let Some(format) = input.get("format").and_then(Value::as_str)
        && format != "JSON"
        && format != "XML"
    {
        return Err(GqlError::new(
            format!(
                "Argument 'format' has an invalid value ({format}). Expected type 'WebhookSubscriptionFormat'."
            ),
            "argumentLiteralsIncompatible",
        ));
    }
    let mut webhooks = lock(&ctx.shop.webhooks);
    if webhooks
        .iter()
        .any(|w| w.topic == topic && w.callback_url == url)
    {
        return refuse("Address for this topic has already been taken");
    }
    let subscription = WebhookSubscription {
        id: webhooks.iter().map(|w| w.id).max().unwrap_or(0) + 1,
        topic: topic.clone(),
        callback_url: url.clone(),
        created_at: Utc::now(),
    };
    ctx.inner.add_subscription(Subscription {
        id: subscription.gid(),
        topics: vec![rest_topic(&topic)],
        url,
        secret: None,
    });
    let node = subscription.node();
    webhooks.push(subscription);
    Ok((json!({"webhookSubscription": node, "userErrors": []}), None))
}

fn delete(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let id = field
        .arg("id", ctx.vars)
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| {
            GqlError::new(
                "Field 'webhookSubscriptionDelete' is missing required arguments: id",
                "missingRequiredArguments",
            )
        })?;
    let wanted = parse_gid(&id, "WebhookSubscription", WEBHOOK_BASE);
    let mut webhooks = lock(&ctx.shop.webhooks);
    let Some(index) = webhooks.iter().position(|w| Some(w.id) == wanted) else {
        return Ok((
            json!({
                "deletedWebhookSubscriptionId": null,
                "userErrors": [user_error(&["id"], "Webhook subscription does not exist")],
            }),
            None,
        ));
    };
    let removed = webhooks.remove(index);
    ctx.inner.remove_subscription(&removed.gid());
    Ok((
        json!({"deletedWebhookSubscriptionId": removed.gid(), "userErrors": []}),
        None,
    ))
}

/// `webhookSubscriptions(first:, after:, topics:, callbackUrl:)`.
pub(super) fn list(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let topics: Option<Vec<String>> = field
        .arg("topics", ctx.vars)
        .and_then(|v| serde_json::from_value(v).ok());
    let url = field
        .arg("callbackUrl", ctx.vars)
        .and_then(|v| v.as_str().map(str::to_owned));
    let webhooks = lock(&ctx.shop.webhooks).clone();
    let items = webhooks
        .into_iter()
        .filter(|w| topics.as_ref().is_none_or(|t| t.contains(&w.topic)))
        .filter(|w| url.as_ref().is_none_or(|u| *u == w.callback_url))
        .map(|w| ((0, w.id), w))
        .collect();
    connection(ctx, field, "webhooks", items, |w| w.node())
}

/// `webhookSubscription(id:)`.
pub(super) fn by_id(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let id = field
        .arg("id", ctx.vars)
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| {
            GqlError::new(
                "Field 'webhookSubscription' is missing required arguments: id",
                "missingRequiredArguments",
            )
        })?;
    let wanted = parse_gid(&id, "WebhookSubscription", WEBHOOK_BASE);
    let node = lock(&ctx.shop.webhooks)
        .iter()
        .find(|w| Some(w.id) == wanted)
        .map_or(Value::Null, WebhookSubscription::node);
    Ok((node, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_map_to_rest_names() {
        assert_eq!(rest_topic("ORDERS_CREATE"), "orders/create");
        assert_eq!(rest_topic("ORDERS_UPDATED"), "orders/updated");
        assert_eq!(rest_topic("ORDERS_PAID"), "orders/paid");
        assert_eq!(rest_topic("ORDERS_CANCELLED"), "orders/cancelled");
        assert_eq!(rest_topic("REFUNDS_CREATE"), "refunds/create");
        assert_eq!(
            rest_topic("INVENTORY_LEVELS_UPDATE"),
            "inventory_levels/update"
        );
        assert_eq!(rest_topic("PRODUCTS_UPDATE"), "products/update");
        assert!(valid_topic("APP_UNINSTALLED"));
        assert!(!valid_topic("orders/create"));
        assert!(!valid_topic("ORDERS"));
    }
}
