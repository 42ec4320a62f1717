//! Telling a platform's stock figure apart: the echo of a write, the figure expected, or a
//! manual edit on the platform. Pure rules; `events` applies them.

/// What a platform's stock figure means, given what Concord wrote there last (`pushed`) and
/// the figure it expects the platform to show (`expected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockReport {
    /// The figure Concord just wrote, announced back.
    Echo,
    /// No figure known before: this one becomes the baseline.
    Baseline,
    /// The figure Concord expected.
    Expected,
    /// Someone changed the figure on the platform by `delta`.
    Edited {
        /// The change.
        delta: i64,
    },
}

/// How long a written figure is remembered for telling echoes apart, in seconds.
const ECHO_MEMORY_SECS: i64 = 600;

/// The figures written lately, newest first, from `value:unix_seconds,` entries.
pub(crate) fn recent_writes(log: Option<&str>, now: i64) -> Vec<i64> {
    log.unwrap_or_default()
        .split(',')
        .filter_map(|entry| {
            let (value, at) = entry.split_once(':')?;
            let at: i64 = at.parse().ok()?;
            (now - at <= ECHO_MEMORY_SECS)
                .then(|| value.parse().ok())
                .flatten()
        })
        .collect()
}

impl StockReport {
    pub(crate) fn judge(
        written: &[i64],
        pushed: Option<i64>,
        expected: Option<i64>,
        reported: i64,
    ) -> Self {
        match (pushed, expected.or(pushed)) {
            _ if written.contains(&reported) => Self::Echo,
            (Some(p), _) if p == reported => Self::Echo,
            (_, None) => Self::Baseline,
            (_, Some(e)) if e == reported => Self::Expected,
            (_, Some(e)) => Self::Edited {
                delta: reported - e,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StockReport;

    #[test]
    fn echoes_expected_figures_and_edits_are_told_apart() {
        assert_eq!(
            StockReport::judge(&[], Some(5), Some(5), 5),
            StockReport::Echo
        );
        assert_eq!(
            StockReport::judge(&[], None, None, 7),
            StockReport::Baseline
        );
        // Concord wrote 5, the platform then sold 1 itself: 4 is expected.
        assert_eq!(
            StockReport::judge(&[5], Some(5), Some(4), 4),
            StockReport::Expected
        );
        // Someone set 9 by hand where 4 was expected.
        assert_eq!(
            StockReport::judge(&[5], Some(5), Some(4), 9),
            StockReport::Edited { delta: 5 }
        );
        assert_eq!(
            StockReport::judge(&[], Some(5), None, 2),
            StockReport::Edited { delta: -3 }
        );
        // The echo of the write 5 arrives after the platform's own sale made 4 expected.
        assert_eq!(
            StockReport::judge(&[5], Some(5), Some(4), 5),
            StockReport::Echo
        );
        // The echo of an older write (10) arrives after the newer write (8).
        assert_eq!(
            StockReport::judge(&[8, 10], Some(8), Some(8), 10),
            StockReport::Echo
        );
    }

    #[test]
    fn the_write_log_remembers_recent_figures_only() {
        let log = "8:1000,10:990,oops,7:300,";
        assert_eq!(super::recent_writes(Some(log), 1000), vec![8, 10]);
        assert_eq!(super::recent_writes(None, 1000), Vec::<i64>::new());
    }
}
