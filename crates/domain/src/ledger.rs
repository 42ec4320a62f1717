//! The stock ledger's rules: why stock moves, which bucket a movement changes, and how a
//! level follows from its movements. A level is always the sum of its movements; a mistake
//! is corrected by a compensating movement, never by an edit.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Why stock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MovementReason {
    /// Units left with a customer.
    Sale,
    /// A refund put units back on the shelf.
    RefundRestock,
    /// A returned item came back in sellable condition.
    Return,
    /// A manual correction with a stated reason.
    Adjustment,
    /// A stock count replaced the expected figure.
    Count,
    /// Goods received from a supplier.
    Receive,
    /// Units moved between locations (a pair of movements).
    Transfer,
    /// Units promised to an open order.
    Reservation,
    /// A promise released (order fulfilled or cancelled).
    Release,
}

/// Which figure of a stock level a movement changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Units physically present.
    OnHand,
    /// Units promised to open orders.
    Committed,
}

impl MovementReason {
    /// Every reason.
    pub const ALL: [MovementReason; 9] = [
        Self::Sale,
        Self::RefundRestock,
        Self::Return,
        Self::Adjustment,
        Self::Count,
        Self::Receive,
        Self::Transfer,
        Self::Reservation,
        Self::Release,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::RefundRestock => "refund_restock",
            Self::Return => "return",
            Self::Adjustment => "adjustment",
            Self::Count => "count",
            Self::Receive => "receive",
            Self::Transfer => "transfer",
            Self::Reservation => "reservation",
            Self::Release => "release",
        }
    }

    /// The figure this reason changes.
    pub fn bucket(self) -> Bucket {
        match self {
            Self::Reservation | Self::Release => Bucket::Committed,
            _ => Bucket::OnHand,
        }
    }

    /// Whether a person may record this reason by hand (the others come from orders,
    /// refunds and returns, which carry their own evidence).
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            Self::Adjustment | Self::Count | Self::Receive | Self::Transfer
        )
    }
}

impl fmt::Display for MovementReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MovementReason {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "reason",
                message: format!("unknown reason `{s}`"),
            })
    }
}

/// What kind of place holds stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// A shop with a POS.
    Store,
    /// A warehouse that ships online orders.
    Warehouse,
}

impl LocationKind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Warehouse => "warehouse",
        }
    }
}

impl FromStr for LocationKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "store" => Ok(Self::Store),
            "warehouse" => Ok(Self::Warehouse),
            _ => Err(ValidationError {
                field: "kind",
                message: format!("unknown location kind `{s}`; expected store or warehouse"),
            }),
        }
    }
}

/// On-hand and committed units of one SKU at one location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// Units present.
    pub on_hand: i64,
    /// Units promised to open orders.
    pub committed: i64,
}

impl StockLevel {
    /// The level after a movement.
    pub fn apply(self, reason: MovementReason, delta: i64) -> Self {
        match reason.bucket() {
            Bucket::OnHand => Self {
                on_hand: self.on_hand + delta,
                ..self
            },
            Bucket::Committed => Self {
                committed: self.committed + delta,
                ..self
            },
        }
    }

    /// Units free to sell here: present and not promised, never below zero.
    pub fn sellable(self) -> i64 {
        (self.on_hand - self.committed).max(0)
    }

    /// Units promised beyond what is present: how far this location is oversold.
    pub fn shortfall(self) -> i64 {
        (self.committed - self.on_hand).max(0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reservations_change_committed_and_everything_else_on_hand() {
        let level = StockLevel::default()
            .apply(MovementReason::Receive, 5)
            .apply(MovementReason::Reservation, 2)
            .apply(MovementReason::Sale, -1)
            .apply(MovementReason::Release, -1);
        assert_eq!(
            level,
            StockLevel {
                on_hand: 4,
                committed: 1
            }
        );
        assert_eq!(level.sellable(), 3);
        assert_eq!(
            StockLevel {
                on_hand: 1,
                committed: 3
            }
            .shortfall(),
            2
        );
    }

    fn reason() -> impl Strategy<Value = MovementReason> {
        prop::sample::select(MovementReason::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn a_level_is_the_sum_of_its_movements_in_any_order(
            moves in prop::collection::vec((reason(), -50i64..50), 0..60),
            seed in any::<u64>(),
        ) {
            let forward = moves.iter().fold(StockLevel::default(), |l, (r, d)| l.apply(*r, *d));
            let mut shuffled = moves.clone();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            let reordered = shuffled.iter().fold(StockLevel::default(), |l, (r, d)| l.apply(*r, *d));
            prop_assert_eq!(forward, reordered);
            let on_hand: i64 = moves.iter().filter(|(r, _)| r.bucket() == Bucket::OnHand).map(|(_, d)| d).sum();
            prop_assert_eq!(forward.on_hand, on_hand);
            prop_assert!(forward.sellable() >= 0);
        }
    }
}
