//! Availability: how many units a channel may offer. Computed per (SKU, channel) from the
//! stock at the channel's sourcing locations, minus a safety buffer, optionally capped.
//! Kits have no stock of their own: a kit is available as often as its scarcest component
//! allows, location by location.

use serde::{Deserialize, Serialize};

use crate::{ValidationError, ledger::StockLevel};

/// A limit on how much of the sellable stock one channel may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum AllocationCap {
    /// At most this share of the sellable stock (1–100), rounded down.
    Percent(u8),
    /// At most this many units.
    Units(i64),
}

/// How a channel turns stock into an offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRules {
    /// Units held back from the channel, as protection against overselling.
    pub safety_buffer: i64,
    /// Optional cap on the offer.
    pub cap: Option<AllocationCap>,
}

impl ChannelRules {
    /// Checks the buffer and cap are meaningful.
    pub fn validate(self) -> Result<Self, ValidationError> {
        let bad = |field, message: &str| ValidationError {
            field,
            message: message.to_owned(),
        };
        if self.safety_buffer < 0 {
            return Err(bad("safety_buffer", "must not be negative"));
        }
        match self.cap {
            Some(AllocationCap::Percent(p)) if !(1..=100).contains(&p) => Err(bad(
                "allocation_cap",
                "a percentage must be between 1 and 100",
            )),
            Some(AllocationCap::Units(u)) if u < 0 => {
                Err(bad("allocation_cap", "units must not be negative"))
            }
            _ => Ok(self),
        }
    }

    /// The channel's offer given the sellable units at each of its sourcing locations.
    /// Never negative.
    pub fn offer(self, sellable_per_location: impl IntoIterator<Item = i64>) -> i64 {
        let total: i64 = sellable_per_location.into_iter().map(|s| s.max(0)).sum();
        let buffered = (total - self.safety_buffer).max(0);
        match self.cap {
            None => buffered,
            Some(AllocationCap::Percent(p)) => buffered * i64::from(p.min(100)) / 100,
            Some(AllocationCap::Units(u)) => buffered.min(u.max(0)),
        }
    }
}

/// How many whole kits one location can make: the minimum over components of
/// `sellable ÷ quantity per kit`. A kit with no components makes none.
pub fn kits_sellable(components: impl IntoIterator<Item = (StockLevel, i64)>) -> i64 {
    components
        .into_iter()
        .map(|(level, per_kit)| {
            if per_kit > 0 {
                level.sellable() / per_kit
            } else {
                0
            }
        })
        .min()
        .unwrap_or(0)
}

/// Picks the location to serve `quantity` from: the one with the most sellable units
/// (the first on ties). `None` when there are no candidate locations.
pub fn allocate<L: Clone>(candidates: impl IntoIterator<Item = (L, StockLevel)>) -> Option<L> {
    let mut best: Option<(L, i64)> = None;
    for (location, level) in candidates {
        let sellable = level.on_hand - level.committed;
        if best.as_ref().is_none_or(|(_, b)| sellable > *b) {
            best = Some((location, sellable));
        }
    }
    best.map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn level(on_hand: i64, committed: i64) -> StockLevel {
        StockLevel { on_hand, committed }
    }

    #[test]
    fn offers_subtract_the_buffer_and_respect_caps() {
        let plain = ChannelRules::default();
        assert_eq!(plain.offer([3, 4]), 7);
        let buffered = ChannelRules {
            safety_buffer: 2,
            cap: None,
        };
        assert_eq!(buffered.offer([3, 4]), 5);
        assert_eq!(buffered.offer([1]), 0);
        let half = ChannelRules {
            safety_buffer: 0,
            cap: Some(AllocationCap::Percent(50)),
        };
        assert_eq!(half.offer([7]), 3);
        let five = ChannelRules {
            safety_buffer: 1,
            cap: Some(AllocationCap::Units(5)),
        };
        assert_eq!(five.offer([10]), 5);
        assert_eq!(five.offer([3]), 2);
    }

    #[test]
    fn invalid_rules_are_refused() {
        assert!(
            ChannelRules {
                safety_buffer: -1,
                cap: None
            }
            .validate()
            .is_err()
        );
        assert!(
            ChannelRules {
                safety_buffer: 0,
                cap: Some(AllocationCap::Percent(0))
            }
            .validate()
            .is_err()
        );
        assert!(
            ChannelRules {
                safety_buffer: 0,
                cap: Some(AllocationCap::Percent(101))
            }
            .validate()
            .is_err()
        );
        assert!(
            ChannelRules {
                safety_buffer: 0,
                cap: Some(AllocationCap::Units(-2))
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn a_kit_is_limited_by_its_scarcest_component() {
        assert_eq!(kits_sellable([(level(10, 0), 2), (level(3, 1), 1)]), 2);
        assert_eq!(kits_sellable([(level(10, 0), 3)]), 3);
        assert_eq!(kits_sellable([(level(1, 5), 1)]), 0);
        assert_eq!(kits_sellable(std::iter::empty()), 0);
    }

    #[test]
    fn allocation_prefers_the_location_with_most_free_stock() {
        assert_eq!(
            allocate([("a", level(2, 1)), ("b", level(5, 0)), ("c", level(5, 0))]),
            Some("b")
        );
        assert_eq!(
            allocate([("a", level(0, 2)), ("b", level(0, 1))]),
            Some("b")
        );
        assert_eq!(allocate(Vec::<(&str, StockLevel)>::new()), None);
    }

    fn rules() -> impl Strategy<Value = ChannelRules> {
        let cap = prop_oneof![
            Just(None),
            (1u8..=100).prop_map(|p| Some(AllocationCap::Percent(p))),
            (0i64..100).prop_map(|u| Some(AllocationCap::Units(u))),
        ];
        (0i64..20, cap).prop_map(|(safety_buffer, cap)| ChannelRules { safety_buffer, cap })
    }

    proptest! {
        #[test]
        fn offers_are_never_negative_nor_above_the_sellable_total(
            rules in rules(),
            levels in prop::collection::vec((-20i64..50, 0i64..30), 0..6),
        ) {
            let sellable: Vec<i64> = levels.iter().map(|(h, c)| level(*h, *c).sellable()).collect();
            let offer = rules.offer(sellable.clone());
            prop_assert!(offer >= 0);
            prop_assert!(offer <= sellable.iter().sum::<i64>());
        }

        #[test]
        fn kits_never_exceed_any_component_allowance(
            components in prop::collection::vec(((-5i64..40, 0i64..10), 1i64..5), 1..5),
        ) {
            let parts: Vec<(StockLevel, i64)> = components.iter().map(|((h, c), q)| (level(*h, *c), *q)).collect();
            let kits = kits_sellable(parts.clone());
            prop_assert!(kits >= 0);
            for (lvl, per_kit) in parts {
                prop_assert!(kits * per_kit <= lvl.sellable());
            }
        }
    }
}
