//! Pagination shared by the platforms: opaque keyset cursors (Shopify, Square, Lightspeed)
//! and numbered pages (WooCommerce). A cursor names the last item seen, not an offset, so
//! items changing between pages never make a walk skip or repeat one.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The position of an item in a listing: a sort value (a timestamp in milliseconds, or 0)
/// and the item's id as tie-breaker.
pub(crate) type Key = (i64, u64);

/// An opaque cursor for `key` in a listing called `kind` (a cursor from one listing is
/// refused by another).
pub(crate) fn encode(kind: &str, key: Key) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{}:{}", key.0, key.1))
}

/// The key a cursor from [`encode`] names, if it is one for `kind`.
pub(crate) fn decode(kind: &str, cursor: &str) -> Option<Key> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(kind)?.strip_prefix(':')?;
    let (sort, id) = rest.split_once(':')?;
    Some((sort.parse().ok()?, id.parse().ok()?))
}

/// One page of a keyset listing.
#[derive(Debug)]
pub(crate) struct Window<T> {
    pub items: Vec<(Key, T)>,
    /// More items follow this page.
    pub has_next: bool,
    /// Items precede this page.
    pub has_previous: bool,
}

impl<T> Window<T> {
    /// The key of the last item on the page.
    pub fn end(&self) -> Option<Key> {
        self.items.last().map(|(k, _)| *k)
    }

    /// The key of the first item on the page.
    pub fn start(&self) -> Option<Key> {
        self.items.first().map(|(k, _)| *k)
    }
}

/// Direction of a keyset walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Ascending,
    Descending,
}

/// Up to `limit` items after `after` (or before `before`) in `order` of their keys.
pub(crate) fn window<T>(
    mut items: Vec<(Key, T)>,
    order: Order,
    after: Option<Key>,
    before: Option<Key>,
    limit: usize,
) -> Window<T> {
    items.sort_by(|a, b| match order {
        Order::Ascending => a.0.cmp(&b.0),
        Order::Descending => b.0.cmp(&a.0),
    });
    let follows = |k: &Key, cursor: &Key| match order {
        Order::Ascending => k > cursor,
        Order::Descending => k < cursor,
    };
    if let Some(before) = before {
        // Walking backwards: the `limit` items just before the cursor, kept in order.
        let preceding: Vec<(Key, T)> = items
            .into_iter()
            .filter(|(k, _)| follows(&before, k))
            .collect();
        let skip = preceding.len().saturating_sub(limit);
        return Window {
            has_previous: skip > 0,
            has_next: true,
            items: preceding.into_iter().skip(skip).collect(),
        };
    }
    let total = items.len();
    let rest: Vec<(Key, T)> = match after {
        Some(cursor) => items
            .into_iter()
            .filter(|(k, _)| follows(k, &cursor))
            .collect(),
        None => items,
    };
    let has_previous = rest.len() < total;
    let has_next = rest.len() > limit;
    Window {
        items: rest.into_iter().take(limit).collect(),
        has_next,
        has_previous,
    }
}

/// Pages needed for `total` items at `per_page` a page (at least 1 when there are items).
pub(crate) fn page_count(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_listing() {
        let cursor = encode("variants", (0, 42));
        assert_eq!(decode("variants", &cursor), Some((0, 42)));
        assert_eq!(decode("orders", &cursor), None);
        assert_eq!(decode("variants", "not a cursor"), None);
    }

    #[test]
    fn a_walk_visits_every_item_once() {
        let items: Vec<(Key, u64)> = (1..=25).map(|i| ((0, i), i)).collect();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = window(items.clone(), Order::Ascending, after, None, 10);
            seen.extend(page.items.iter().map(|(_, v)| *v));
            if !page.has_next {
                break;
            }
            after = page.end();
        }
        assert_eq!(seen, (1..=25).collect::<Vec<_>>());
        let back = window(items, Order::Ascending, None, Some((0, 11)), 4);
        assert_eq!(
            back.items.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            vec![7, 8, 9, 10]
        );
        assert!(back.has_previous);
        assert_eq!(page_count(25, 10), 3);
        assert_eq!(page_count(0, 10), 0);
    }
}
