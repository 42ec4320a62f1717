//! Orders and their effect on stock.
//!
//! An order line's stock effect is a function of the line's *state*, not of the events that
//! told us about it: open units are committed (reserved), fulfilled units are sold, a
//! cancelled order holds nothing. Applying an event compares that desired effect with what
//! the ledger already holds for the line and records only the difference. So the same state
//! twice changes nothing, and events that arrive out of order converge to the same ledger.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{ValidationError, ledger::MovementReason};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, not yet fully fulfilled.
    Open,
    /// Every line fulfilled (or sold over the counter).
    Completed,
    /// Cancelled before fulfilment; holds no stock.
    Cancelled,
    /// Held for review (compliance or oversell policy); keeps its reservation.
    OnHold,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 4] = [Self::Open, Self::Completed, Self::Cancelled, Self::OnHold];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::OnHold => "on_hold",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "status",
                message: format!("unknown order status `{s}`"),
            })
    }
}

/// The stock an order line holds: units committed to it and units sold by it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineStock {
    /// Units reserved for the line.
    pub committed: i64,
    /// Units that left stock for the line.
    pub sold: i64,
}

impl LineStock {
    /// The effect a line in this state should have: fulfilled units sold, the rest
    /// committed unless the order is cancelled. Quantities are clamped to be consistent.
    pub fn desired(status: OrderStatus, quantity: i64, fulfilled: i64) -> Self {
        let quantity = quantity.max(0);
        let sold = fulfilled.clamp(0, quantity);
        let committed = match status {
            OrderStatus::Cancelled | OrderStatus::Completed => 0,
            OrderStatus::Open | OrderStatus::OnHold => quantity - sold,
        };
        let sold = if status == OrderStatus::Completed {
            quantity
        } else {
            sold
        };
        Self { committed, sold }
    }

    /// The movements that take a line from `applied` to `self`: reservations or releases
    /// for committed units, sales (or their reversal) for sold units.
    pub fn compensations(self, applied: LineStock) -> Vec<(MovementReason, i64)> {
        let mut moves = Vec::new();
        let committed = self.committed - applied.committed;
        if committed > 0 {
            moves.push((MovementReason::Reservation, committed));
        } else if committed < 0 {
            moves.push((MovementReason::Release, committed));
        }
        let sold = self.sold - applied.sold;
        if sold != 0 {
            moves.push((MovementReason::Sale, -sold));
        }
        moves
    }
}

/// What happens to a returned item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back on the shelf: stock goes up.
    Restock,
    /// Damaged in transit or by the customer.
    Damaged,
    /// Faulty; goes back to the supplier.
    Defective,
    /// Never arrived back.
    Lost,
}

impl Disposition {
    /// Whether the item returns to sellable stock.
    pub fn restocks(self) -> bool {
        self == Disposition::Restock
    }
}

/// What the tenant does when two channels sell the same last unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OversellPolicy {
    /// Cancel the losing order on its channel.
    Cancel,
    /// Keep the order as a backorder, to fill when stock arrives.
    Backorder,
    /// Hold the order for a person to decide.
    Hold,
}

impl OversellPolicy {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Backorder => "backorder",
            Self::Hold => "hold",
        }
    }
}

impl FromStr for OversellPolicy {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Cancel, Self::Backorder, Self::Hold]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "oversell_policy",
                message: format!("unknown policy `{s}`; expected cancel, backorder or hold"),
            })
    }
}

/// Normalizes an email for matching customers across channels; `None` if unusable.
pub fn normalize_email(input: &str) -> Option<String> {
    crate::Email::parse(input)
        .ok()
        .map(|e| e.as_str().to_owned())
}

/// Normalizes a phone number for matching: digits only, with `+` kept for international
/// numbers (`00` becomes `+`). `None` below 7 digits.
pub fn normalize_phone(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let digits = if trimmed.starts_with("00") {
        digits[2..].to_owned()
    } else {
        digits
    };
    (digits.len() >= 7).then(|| {
        if international {
            format!("+{digits}")
        } else {
            digits
        }
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ledger::{Bucket, StockLevel};

    #[test]
    fn open_lines_commit_fulfilled_lines_sell_cancelled_lines_hold_nothing() {
        assert_eq!(
            LineStock::desired(OrderStatus::Open, 3, 1),
            LineStock {
                committed: 2,
                sold: 1
            }
        );
        assert_eq!(
            LineStock::desired(OrderStatus::Completed, 3, 0),
            LineStock {
                committed: 0,
                sold: 3
            }
        );
        assert_eq!(
            LineStock::desired(OrderStatus::Cancelled, 3, 0),
            LineStock::default()
        );
        assert_eq!(
            LineStock::desired(OrderStatus::OnHold, 2, 0),
            LineStock {
                committed: 2,
                sold: 0
            }
        );
        assert_eq!(
            LineStock::desired(OrderStatus::Open, 2, 9),
            LineStock {
                committed: 0,
                sold: 2
            }
        );
    }

    #[test]
    fn compensations_record_only_the_difference() {
        let placed = LineStock::desired(OrderStatus::Open, 2, 0);
        assert_eq!(
            placed.compensations(LineStock::default()),
            [(MovementReason::Reservation, 2)]
        );
        assert!(
            placed.compensations(placed).is_empty(),
            "the same state twice changes nothing"
        );
        let shipped = LineStock::desired(OrderStatus::Completed, 2, 2);
        assert_eq!(
            shipped.compensations(placed),
            [(MovementReason::Release, -2), (MovementReason::Sale, -2)]
        );
    }

    #[test]
    fn phones_and_emails_normalize_for_matching() {
        assert_eq!(
            normalize_phone("+44 (0)20 7946-0018").as_deref(),
            Some("+4402079460018")
        );
        assert_eq!(
            normalize_phone("0044 20 7946 0018").as_deref(),
            Some("+442079460018")
        );
        assert_eq!(normalize_phone("12-34"), None);
        assert_eq!(
            normalize_email(" Jo@Example.com ").as_deref(),
            Some("jo@example.com")
        );
        assert_eq!(normalize_email("nope"), None);
    }

    fn status() -> impl Strategy<Value = OrderStatus> {
        prop::sample::select(OrderStatus::ALL.to_vec())
    }

    proptest! {
        /// Whatever sequence of states a line passes through (in any order, with
        /// repeats), the ledger built from compensations ends at the last state's effect.
        #[test]
        fn any_sequence_of_line_states_converges_to_the_last(
            states in prop::collection::vec((status(), 0i64..6, 0i64..6), 1..12),
        ) {
            let mut applied = LineStock::default();
            let mut level = StockLevel { on_hand: 100, committed: 0 };
            for (status, quantity, fulfilled) in &states {
                let desired = LineStock::desired(*status, *quantity, *fulfilled);
                for (reason, delta) in desired.compensations(applied) {
                    level = level.apply(reason, delta);
                    match reason.bucket() {
                        Bucket::Committed => applied.committed += delta,
                        Bucket::OnHand => applied.sold -= delta,
                    }
                }
                prop_assert_eq!(applied, desired);
            }
            let (s, q, f) = states[states.len() - 1];
            let last = LineStock::desired(s, q, f);
            prop_assert_eq!(level, StockLevel { on_hand: 100 - last.sold, committed: last.committed });
        }
    }
}
