//! What keeps a run's figures from telling about the server, said in one sentence wherever the run
//! is shown: the summary, the HTML report and the JUnit XML.

use scalelab_metrics::Summary;

use crate::format::count;

/// When the run measured no server ([`Summary::nothing_answered`]): why, with the errors seen.
pub fn nothing_answered(summary: &Summary) -> Option<String> {
    if !summary.nothing_answered() {
        return None;
    }
    let sent = summary.requests_sent();
    if sent == 0 {
        return Some("nothing measured: no request was sent and no iteration ran".to_owned());
    }
    let mut kinds: Vec<String> = summary
        .errors_by_kind
        .iter()
        .map(|(kind, n)| format!("{kind} {}", count(*n)))
        .collect();
    let cut_off = summary.totals.interrupted_requests;
    if cut_off > 0 {
        kinds.push(format!("{} in flight when the run ended", count(cut_off)));
    }
    Some(format!(
        "nothing answered: none of {} requests got a response ({}); these figures measure no server",
        count(sent),
        kinds.join(", ")
    ))
}

/// When the run ended before its plan did: why and when.
pub fn stopped_early(summary: &Summary) -> Option<String> {
    summary.stopped_early.as_ref().map(|stop| {
        format!(
            "stopped early at {} s: {} (the figures cover the run until then)",
            crate::format::number(stop.at_seconds, 1),
            stop.reason
        )
    })
}

/// The loader's own send delay (p99, ms, of arrivals that found a VU free) above which it is named
/// as a limit: well above what a loader that keeps time shows (tens of µs to a millisecond).
pub const LOADER_SEND_DELAY_LIMIT_MS: f64 = 10.0;

/// The share of arrivals that waited for a busy VU from which the VUs are named a limit.
pub const WAITED_SHARE_LIMIT: f64 = 0.01;

/// When the load generator, not the target, limited what was sent: its CPU, its VUs, its clock.
pub fn loader_limit(summary: &Summary) -> Option<String> {
    let t = &summary.totals;
    let mut reasons = Vec::new();
    if let Some(loader) = summary.loader.as_ref().filter(|l| l.saturated()) {
        let usable = loader.threads.min(loader.cores).max(1);
        reasons.push(format!(
            "its CPU ({} % of the {usable} cores its threads could use, in second {})",
            crate::format::number(loader.peak_busy * 100.0, 0),
            loader.peak_second
        ));
    }
    if t.dropped_iterations > 0 {
        reasons.push(format!(
            "{} arrivals dropped, no VU free (more VUs or connections would send them)",
            count(t.dropped_iterations)
        ));
    }
    // A few arrivals behind a momentary stall are no limit; one in a hundred is.
    let waited = t.arrivals_waited();
    if let Some(delay) = t
        .send_delay
        .as_ref()
        .filter(|delay| waited > 0 && waited as f64 >= WAITED_SHARE_LIMIT * delay.count as f64)
    {
        reasons.push(format!(
            "{} of {} arrivals waited for a busy VU (more VUs or connections send them on time)",
            count(waited),
            count(delay.count)
        ));
    }
    if let Some(free) = t
        .send_delay_free
        .as_ref()
        .or(t.send_delay.as_ref())
        .filter(|free| free.p99 > LOADER_SEND_DELAY_LIMIT_MS)
    {
        reasons.push(format!(
            "its own send delay (p99 {} ms for arrivals that found a VU free)",
            crate::format::millis(free.p99)
        ));
    }
    (!reasons.is_empty()).then(|| {
        format!(
            "the load generator was a limit: {}; the target was offered less, or later, than planned",
            reasons.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use scalelab_metrics::{Interval, LoaderUse};

    use super::*;
    use crate::test_support::summary_of;

    #[test]
    fn the_loader_is_named_a_limit_for_each_reason_seen() {
        let mut total = Interval::new(0);
        let mut s = summary_of(&total, None);
        // 4 threads on 2 cores can use 2: 1.9 CPU-s in second 1 is 95 %; 0.4 in second 0 is 20 %.
        s.loader = Some(LoaderUse::from_seconds(
            4,
            2,
            &[(0, 400_000), (1, 1_900_000), (2, 100_000)],
        ));
        let loader = s.loader.as_ref().unwrap();
        assert_eq!((loader.peak_second, loader.peak_busy), (1, 0.95));
        assert!((loader.cpu_seconds - 2.4).abs() < 1e-9);
        assert_eq!(
            loader_limit(&s).unwrap(),
            "the load generator was a limit: its CPU (95 % of the 2 cores its threads could use, \
             in second 1); the target was offered less, or later, than planned"
        );
        // One arrival in 200 waiting (0.5 %, under 1 %) behind a stall is no limit.
        let mut calm = Interval::new(0);
        for k in 0..200 {
            calm.record_send_delay(std::time::Duration::from_micros(50), k == 0);
        }
        assert_eq!(loader_limit(&summary_of(&calm, None)), None);
        // Below 90 % the CPU is not a limit; dropped and waiting arrivals and a late clock are.
        s.loader = Some(LoaderUse::from_seconds(1, 8, &[(0, 890_000)]));
        assert_eq!(loader_limit(&s), None);
        total.dropped_iterations = 7;
        for (micros, waited) in [(50, false), (20_000, false), (30_000, true)] {
            total.record_send_delay(std::time::Duration::from_micros(micros), waited);
        }
        let mut s = summary_of(&total, None);
        s.loader = Some(LoaderUse::from_seconds(1, 8, &[(0, 890_000)]));
        // The free arrivals' delays are 0.05 and 20 ms: p99 = 0.05 + 0.99 × 19.95 = 19.8 ms.
        assert_eq!(
            loader_limit(&s).unwrap(),
            "the load generator was a limit: 7 arrivals dropped, no VU free (more VUs or \
             connections would send them); 1 of 3 arrivals waited for a busy VU (more VUs or connections send them \
             on time); its own send delay (p99 19.8 ms for arrivals that found a VU free); the \
             target was offered less, or later, than planned"
        );
    }
}
