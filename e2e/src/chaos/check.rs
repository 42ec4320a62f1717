//! What a chaos run expects (the sales the platforms accepted) and what it finds (Concord's
//! ledger and offers, read from the run's own schema, and each platform's figures), and
//! the comparison of the two.

use concord_simulators::RunningSim;
use concord_storage::test_support::TestDatabase;

use super::START;
use crate::scenarios::sku_code;

/// The sales the platforms accepted.
#[derive(Debug)]
pub(crate) struct Expected {
    /// Units sold per SKU number.
    sold: Vec<i64>,
    /// Units sold per channel, then per SKU number.
    by_channel: Vec<Vec<i64>>,
    /// Orders accepted.
    pub(crate) sales: u64,
}

impl Expected {
    /// Nothing sold yet of `skus` SKUs on `channels` channels.
    pub(crate) fn new(skus: usize, channels: usize) -> Self {
        Self {
            sold: vec![0; skus],
            by_channel: vec![vec![0; skus]; channels],
            sales: 0,
        }
    }

    /// How many SKUs there are.
    pub(crate) fn skus(&self) -> usize {
        self.sold.len()
    }

    /// Records one accepted order of `(SKU number, units)` lines on `channel`.
    pub(crate) fn sold(&mut self, channel: usize, lines: &[(usize, i64)]) {
        for (sku, units) in lines {
            if let Some(sold) = self.sold.get_mut(*sku) {
                *sold += units;
            }
            if let Some(sold) = self
                .by_channel
                .get_mut(channel)
                .and_then(|skus| skus.get_mut(*sku))
            {
                *sold += units;
            }
        }
        self.sales += 1;
    }

    /// Units sold, all SKUs together.
    pub(crate) fn units(&self) -> i64 {
        self.sold.iter().sum()
    }
}

/// Concord's figures and the platforms' at one moment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Observed {
    /// Units Concord can sell per SKU (on hand less committed).
    sellable: Vec<i64>,
    /// Per channel, the figure Concord offers it per SKU.
    offered: Vec<Vec<i64>>,
    /// Per channel, the figure the platform shows per SKU.
    shown: Vec<Vec<i64>>,
    /// Per channel, the units of its orders the ledger holds per SKU.
    recorded: Vec<Vec<i64>>,
    /// Webhooks the platforms still mean to send, deliveries not yet processed and offers
    /// not yet written.
    busy: i64,
    /// Ledger movements Concord recorded as stock edits made on a platform (nobody edited
    /// any in this run: each one is a sale that reached Concord after the figure counting it).
    pub(crate) platform_edits: i64,
    /// Ledger movements giving such an edit back once its sale arrived.
    pub(crate) given_back: i64,
    /// Deliveries given up on.
    pub(crate) dead_letters: i64,
}

/// The comparison of an observation with what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Figures {
    /// Units sold on a platform that Concord's ledger does not hold.
    pub(crate) lost: i64,
    /// Units Concord's ledger removed beyond those sold.
    pub(crate) duplicates: i64,
    /// (channel, SKU) pairs where the platform does not show Concord's figure.
    pub(crate) mismatched: i64,
}

impl Figures {
    /// Nothing lost, nothing doubled, every platform in step.
    pub(crate) fn exact(self) -> bool {
        self.lost == 0 && self.duplicates == 0 && self.mismatched == 0
    }
}

impl Observed {
    /// Reads Concord's figures from `db` and each simulator's.
    pub(crate) async fn read(
        db: &TestDatabase,
        sims: &[(RunningSim, String)],
        skus: usize,
    ) -> anyhow::Result<Self> {
        let mut sellable = Vec::with_capacity(skus);
        for i in 0..skus {
            sellable.push(
                db.count(&format!(
                    "SELECT CAST(COALESCE(sum(l.on_hand - l.committed), 0) AS BIGINT) \
                     FROM stock_levels l JOIN skus s ON s.id = l.sku_id WHERE s.code = '{}'",
                    sku_code(i)
                ))
                .await?,
            );
        }
        let (mut offered, mut shown, mut recorded) = (Vec::new(), Vec::new(), Vec::new());
        for (sim, connection) in sims {
            let (mut offers, mut figures) = (Vec::with_capacity(skus), Vec::with_capacity(skus));
            let mut units = Vec::with_capacity(skus);
            for i in 0..skus {
                let code = sku_code(i);
                // A sale removes units; an open order's reservation commits them, and its
                // release (on fulfilment or cancellation) gives them back.
                units.push(
                    db.count(&format!(
                        "SELECT CAST(COALESCE(sum(CASE WHEN m.reason = 'sale' THEN -m.delta \
                         ELSE m.delta END), 0) AS BIGINT) \
                         FROM stock_movements m JOIN skus s ON s.id = m.sku_id \
                         WHERE s.code = '{code}' AND m.source_connection_id = '{connection}' \
                         AND m.reason IN ('sale', 'reservation', 'release')"
                    ))
                    .await?,
                );
                offers.push(
                    db.count(&format!(
                        "SELECT a.available FROM availability a JOIN skus s ON s.id = a.sku_id \
                         WHERE s.code = '{code}' AND a.connection_id = '{connection}'"
                    ))
                    .await?,
                );
                figures.push(sim.stock(&code, None).map_or(i64::MIN, |s| s.quantity));
            }
            offered.push(offers);
            shown.push(figures);
            recorded.push(units);
        }
        let queued: u64 = sims
            .iter()
            .map(|(sim, _)| sim.stats().webhooks_pending)
            .sum();
        let busy = db
            .count("SELECT count(*) FROM inbound_events WHERE status NOT IN ('processed', 'dead')")
            .await?
            + db.count("SELECT count(*) FROM availability WHERE push_due")
                .await?
            + queued as i64;
        Ok(Self {
            sellable,
            offered,
            shown,
            recorded,
            busy,
            platform_edits: db
                .count(
                    "SELECT count(*) FROM stock_movements WHERE reason = 'adjustment' \
                     AND source_connection_id IS NOT NULL AND order_id IS NULL",
                )
                .await?,
            given_back: db
                .count(
                    "SELECT count(*) FROM stock_movements WHERE reason = 'adjustment' \
                     AND source_connection_id IS NOT NULL AND order_id IS NOT NULL",
                )
                .await?,
            dead_letters: db
                .count("SELECT count(*) FROM inbound_events WHERE status = 'dead'")
                .await?,
        })
    }

    /// No webhook, delivery or offer waits.
    pub(crate) fn idle(&self) -> bool {
        self.busy == 0
    }

    /// One line per SKU that is not exact: units sold, Concord's figure, and per channel the
    /// units sold there / the units of its orders the ledger holds, and the figure offered /
    /// shown.
    pub(crate) fn explain(&self, expected: &Expected) -> Vec<String> {
        let mut lines = Vec::new();
        for (i, (sellable, sold)) in self.sellable.iter().zip(&expected.sold).enumerate() {
            let figures: Vec<String> = self
                .offered
                .iter()
                .zip(&self.shown)
                .map(|(offers, figures)| format!("{}/{}", offers[i], figures[i]))
                .collect();
            let units: Vec<String> = expected
                .by_channel
                .iter()
                .zip(&self.recorded)
                .map(|(sold, held)| format!("{}/{}", sold[i], held[i]))
                .collect();
            let wrong = START - sellable != *sold
                || figures
                    .iter()
                    .any(|c| c != &format!("{sellable}/{sellable}"));
            if wrong {
                lines.push(format!(
                    "{}: sold {sold}, Concord {sellable} (expected {}); per channel sold/held {}, \
                     offered/shown {}",
                    sku_code(i),
                    START - sold,
                    units.join(" "),
                    figures.join(" ")
                ));
            }
        }
        lines
    }

    /// Compares with the sales made.
    pub(crate) fn compare(&self, expected: &Expected) -> Figures {
        let (mut lost, mut duplicates) = (0, 0);
        for (sellable, sold) in self.sellable.iter().zip(&expected.sold) {
            let taken = START - sellable;
            lost += (sold - taken).max(0);
            duplicates += (taken - sold).max(0);
        }
        let mut mismatched = 0;
        for (offers, figures) in self.offered.iter().zip(&self.shown) {
            for ((offer, figure), sellable) in offers.iter().zip(figures).zip(&self.sellable) {
                if offer != figure || offer != sellable {
                    mismatched += 1;
                }
            }
        }
        Figures {
            lost,
            duplicates,
            mismatched,
        }
    }
}
