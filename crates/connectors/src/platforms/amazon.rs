//! Amazon Selling Partner API notifications. Amazon does not sign them: they are delivered to
//! the merchant's own SQS queue or EventBridge bus, protected by AWS IAM, so a copy pushed to
//! Concord is only a hint and Concord's `searchOrders` poll stays the primary path.
//!
//! Notification: `{NotificationType, EventTime, Payload, NotificationMetadata{NotificationId}}`
//! (inside `detail` when it comes through EventBridge). `ORDER_CHANGE` with a `Summary` gives
//! the order's status and items (Amazon sends no prices here), without one an order hint;
//! `LISTINGS_ITEM_MFN_QUANTITY_CHANGE` gives a seller SKU's quantity;
//! `FBA_INVENTORY_AVAILABILITY_CHANGES` names the SKU to re-read.

use serde::Deserialize;

use super::common::{self, Unsigned};
use crate::{Delivery, Inventory, Kind, Line, Normalized, ParseError};

const PLATFORM: &str = "amazon";

/// Amazon Selling Partner API.
pub struct Amazon;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Notification {
    notification_type: Option<String>,
    event_time: Option<String>,
    payload: Option<Payload>,
    notification_metadata: Option<Metadata>,
    /// The notification inside an EventBridge event.
    #[serde(rename = "detail")]
    detail: Option<Box<Notification>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    notification_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Payload {
    order_change_notification: Option<OrderChange>,
    /// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`.
    sku: Option<String>,
    quantity: Option<i64>,
    /// `FBA_INVENTORY_AVAILABILITY_CHANGES`.
    #[serde(rename = "SKU")]
    fba_sku: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrderChange {
    amazon_order_id: String,
    order_change_trigger: Option<Trigger>,
    summary: Option<Summary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Trigger {
    time_of_order_change: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    order_status: Option<String>,
    #[serde(default)]
    order_items: Vec<OrderItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrderItem {
    order_item_id: Option<String>,
    #[serde(rename = "SellerSKU")]
    seller_sku: Option<String>,
    quantity: i64,
}

fn read(body: &[u8]) -> Result<Notification, ParseError> {
    let notification: Notification = common::json(PLATFORM, body)?;
    Ok(match notification.detail {
        Some(inner) => *inner,
        None => notification,
    })
}

impl Notification {
    fn normalize(self) -> Option<Normalized> {
        let payload = self.payload?;
        let mut event = match self.notification_type.as_deref()? {
            "ORDER_CHANGE" => {
                let change = payload.order_change_notification?;
                let at = change
                    .order_change_trigger
                    .and_then(|t| t.time_of_order_change)
                    .as_deref()
                    .and_then(common::utc_minutes);
                let mut event = match change.summary {
                    Some(summary) => {
                        let mut order = Normalized::new(Kind::Order);
                        order.external_order_id = Some(change.amazon_order_id);
                        order.status = summary.order_status;
                        order.lines = summary
                            .order_items
                            .into_iter()
                            .map(|item| Line {
                                line_id: item.order_item_id,
                                sku: item.seller_sku,
                                external_item_id: None,
                                quantity: item.quantity,
                                unit_price_minor: None,
                            })
                            .collect();
                        order
                    }
                    None => common::hint_event("order", Some(change.amazon_order_id)),
                };
                event.occurred_at = at;
                event
            }
            "LISTINGS_ITEM_MFN_QUANTITY_CHANGE" => {
                let mut event = Normalized::new(Kind::Inventory);
                event.inventory = Some(Inventory {
                    sku: Some(payload.sku?),
                    external_item_id: None,
                    location_id: None,
                    quantity: payload.quantity,
                });
                event
            }
            "FBA_INVENTORY_AVAILABILITY_CHANGES" => {
                common::hint_event("inventory", payload.fba_sku)
            }
            _ => return None,
        };
        event.topic = self.notification_type;
        event.event_id = self.notification_metadata.and_then(|m| m.notification_id);
        if event.occurred_at.is_none() {
            event.occurred_at = self.event_time.as_deref().and_then(common::utc_minutes);
        }
        Some(event)
    }
}

impl Unsigned for Amazon {
    const WHY: &'static str = "Amazon SP-API notifications are not signed: they reach the merchant's own SQS queue \
             or EventBridge bus under AWS IAM, so Concord treats them as hints and polls \
             searchOrders";

    fn pushed_event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        read(delivery.body)
            .ok()?
            .notification_metadata?
            .notification_id
    }

    fn hints(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        Ok(read(delivery.body)?.normalize().into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{
        Inbound, assert_malformed, assert_unsigned, bare as delivery,
    };

    const ORDER_CHANGE: &str = r#"{
      "NotificationVersion": "1.0",
      "NotificationType": "ORDER_CHANGE",
      "PayloadVersion": "1.0",
      "EventTime": "2026-03-02T14:05:12.480Z",
      "Payload": {
        "OrderChangeNotification": {
          "NotificationLevel": "OrderLevel",
          "SellerId": "A2Q3Y263D00KWC",
          "AmazonOrderId": "205-1187326-4419551",
          "OrderChangeType": "OrderStatusChange",
          "OrderChangeTrigger": {"TimeOfOrderChange": "2026-03-02T14:05:10.000Z", "ChangeReason": "Order status changed"},
          "Summary": {
            "MarketplaceId": "A1F83G8C2ARO7P",
            "OrderStatus": "Unshipped",
            "PurchaseDate": "2026-03-02T13:58:41.000Z",
            "FulfillmentType": "MFN",
            "OrderType": "StandardOrder",
            "NumberOfItemsShipped": 0,
            "NumberOfItemsUnshipped": 3,
            "OrderItems": [
              {"OrderItemId": "41720548617363", "SellerSKU": "DVD-MTR-0142", "OrderItemStatus": "Unshipped", "Quantity": 2, "QuantityShipped": 0},
              {"OrderItemId": "41720548617364", "SellerSKU": "BLU-ARK-0007", "OrderItemStatus": "Unshipped", "Quantity": 1, "QuantityShipped": 0}
            ]
          }
        }
      },
      "NotificationMetadata": {
        "ApplicationId": "amzn1.sp.solution.6f3a2c1e-8d7b-4e5f-9a0b-1c2d3e4f5a6b",
        "SubscriptionId": "7d2e9c4b-1a3f-4b5c-8d6e-9f0a1b2c3d4e",
        "PublishTime": "2026-03-02T14:05:12.480Z",
        "NotificationId": "c4b8f1e2-3d5a-4f6b-9c7d-0e1f2a3b4c5d"
      }
    }"#;

    #[test]
    fn verify_says_why_it_cannot() {
        assert_unsigned(&Amazon, "SQS");
    }

    #[test]
    fn an_order_change_with_a_summary_gives_status_and_items() {
        assert_eq!(
            Amazon.event_id(&delivery(ORDER_CHANGE)).as_deref(),
            Some("c4b8f1e2-3d5a-4f6b-9c7d-0e1f2a3b4c5d")
        );
        let mut expected = Normalized::new(Kind::Order);
        expected.topic = Some("ORDER_CHANGE".into());
        expected.event_id = Some("c4b8f1e2-3d5a-4f6b-9c7d-0e1f2a3b4c5d".into());
        expected.occurred_at = Some("2026-03-02T14:05:10Z".into());
        expected.external_order_id = Some("205-1187326-4419551".into());
        expected.status = Some("Unshipped".into());
        expected.lines = vec![
            Line {
                line_id: Some("41720548617363".into()),
                sku: Some("DVD-MTR-0142".into()),
                external_item_id: None,
                quantity: 2,
                unit_price_minor: None,
            },
            Line {
                line_id: Some("41720548617364".into()),
                sku: Some("BLU-ARK-0007".into()),
                external_item_id: None,
                quantity: 1,
                unit_price_minor: None,
            },
        ];
        assert_eq!(Amazon.parse(&delivery(ORDER_CHANGE)), Ok(vec![expected]));
    }

    #[test]
    fn an_order_change_without_a_summary_is_a_hint() {
        let body = r#"{"NotificationType":"ORDER_CHANGE","EventTime":"2026-03-02T14:05:12.480Z",
            "Payload":{"OrderChangeNotification":{"AmazonOrderId":"205-1187326-4419551","OrderChangeType":"BuyerRequestedChange"}},
            "NotificationMetadata":{"NotificationId":"n-2"}}"#;
        let mut expected = common::hint_event("order", Some("205-1187326-4419551".into()));
        expected.topic = Some("ORDER_CHANGE".into());
        expected.event_id = Some("n-2".into());
        expected.occurred_at = Some("2026-03-02T14:05:12.480Z".into());
        assert_eq!(Amazon.parse(&delivery(body)), Ok(vec![expected]));
    }

    #[test]
    fn listing_quantity_changes_give_the_sku_figure_also_through_eventbridge() {
        let body = r#"{"version":"0","id":"e1","detail-type":"LISTINGS_ITEM_MFN_QUANTITY_CHANGE","source":"aws.partner/sellingpartnerapi.amazon/amzn1.sellerapps.app.x","detail":{
            "NotificationVersion":"1.0","NotificationType":"LISTINGS_ITEM_MFN_QUANTITY_CHANGE","PayloadVersion":"1.0","EventTime":"2026-03-02T18:59:30.194Z",
            "Payload":{"SellerId":"A2Q3Y263D00KWC","FulfillmentChannelCode":"DEFAULT","Sku":"DVD-MTR-0142","Quantity":17},
            "NotificationMetadata":{"NotificationId":"8e009934-da2c-4f9c-9bc7-93f23b7e1f60"}}}"#;
        let mut expected = Normalized::new(Kind::Inventory);
        expected.topic = Some("LISTINGS_ITEM_MFN_QUANTITY_CHANGE".into());
        expected.event_id = Some("8e009934-da2c-4f9c-9bc7-93f23b7e1f60".into());
        expected.occurred_at = Some("2026-03-02T18:59:30.194Z".into());
        expected.inventory = Some(Inventory {
            sku: Some("DVD-MTR-0142".into()),
            external_item_id: None,
            location_id: None,
            quantity: Some(17),
        });
        assert_eq!(Amazon.parse(&delivery(body)), Ok(vec![expected]));
        assert_eq!(
            Amazon.event_id(&delivery(body)).as_deref(),
            Some("8e009934-da2c-4f9c-9bc7-93f23b7e1f60")
        );
    }

    #[test]
    fn fba_changes_are_hints_and_other_types_are_ignored() {
        let fba = r#"{"NotificationType":"FBA_INVENTORY_AVAILABILITY_CHANGES","EventTime":"2026-03-02T19:00:00Z",
            "Payload":{"SellerId":"A2Q3Y263D00KWC","FNSKU":"X001ABCDEF","ASIN":"B00001ABCD","SKU":"BLU-ARK-0007","FulfillmentInventoryByMarketplace":[]},
            "NotificationMetadata":{"NotificationId":"n-3"}}"#;
        let events = Amazon.parse(&delivery(fba)).expect("parse");
        assert_eq!(events[0].kind, Kind::Hint);
        assert_eq!(
            events[0]
                .hint
                .as_ref()
                .map(|h| (h.resource.as_str(), h.id.as_deref())),
            Some(("inventory", Some("BLU-ARK-0007")))
        );
        let feed = r#"{"NotificationType":"FEED_PROCESSING_FINISHED","Payload":{"FeedProcessingFinishedNotification":{"FeedId":"1"}},"NotificationMetadata":{"NotificationId":"n-4"}}"#;
        assert_eq!(Amazon.parse(&delivery(feed)), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert_malformed(
            &Amazon,
            &[
                "",
                "nope",
                "[]",
                r#"{"NotificationType":"ORDER_CHANGE","Payload":{"OrderChangeNotification":{}}}"#,
                r#"{"NotificationType":"ORDER_CHANGE","Payload":{"OrderChangeNotification":{"AmazonOrderId":"1","Summary":{"OrderItems":[{"Quantity":"two"}]}}}}"#,
            ],
        );
    }
}
