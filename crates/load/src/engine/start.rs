//! `--start-at`: the wall-clock time at which every shard begins the schedule.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How late a start time may be when the run begins: a shard started this much after the agreed
/// time still runs (its first arrivals are due at once, and count their lateness as latency).
pub const START_LATE_TOLERANCE: Duration = Duration::from_secs(5);
/// How far ahead a start time may be.
pub const START_AHEAD_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// A start time that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartAtError {
    #[error("--start-at '{0}': expected an RFC 3339 time (2026-11-28T09:30:00Z) or unix seconds")]
    Syntax(String),
    #[error(
        "--start-at {at}: that was {late:.1} s ago (more than {} s): the other shards have long begun; render or pick a new start time",
        START_LATE_TOLERANCE.as_secs()
    )]
    Past { at: String, late: f64 },
    #[error("--start-at {at}: that is {ahead:.0} s ahead, more than {} h", START_AHEAD_LIMIT.as_secs() / 3600)]
    TooFar { at: String, ahead: f64 },
}

/// Parses `text` (RFC 3339, or seconds since the unix epoch) and checks it against `now`: at most
/// [`START_LATE_TOLERANCE`] in the past and [`START_AHEAD_LIMIT`] in the future.
pub fn parse_start_at(text: &str, now: SystemTime) -> Result<SystemTime, StartAtError> {
    let text = text.trim();
    let at = match text.parse::<f64>() {
        Ok(seconds) if (0.0..1e11).contains(&seconds) => {
            UNIX_EPOCH + Duration::from_secs_f64(seconds)
        }
        Ok(_) => return Err(StartAtError::Syntax(text.to_owned())),
        Err(_) => humantime::parse_rfc3339_weak(text)
            .map_err(|_| StartAtError::Syntax(text.to_owned()))?,
    };
    let shown = format_start_at(at);
    match at.duration_since(now) {
        Ok(ahead) if ahead > START_AHEAD_LIMIT => Err(StartAtError::TooFar {
            at: shown,
            ahead: ahead.as_secs_f64(),
        }),
        Ok(_) => Ok(at),
        Err(late) if late.duration() > START_LATE_TOLERANCE => Err(StartAtError::Past {
            at: shown,
            late: late.duration().as_secs_f64(),
        }),
        Err(_) => Ok(at),
    }
}

/// A start time as results record it: RFC 3339 in UTC, to the millisecond.
pub fn format_start_at(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_and_unix_seconds_within_bounds() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // 1_800_000_000 s is 2027-01-15T08:00:00Z.
        let at = parse_start_at("2027-01-15T08:00:30Z", now).unwrap();
        assert_eq!(at, now + Duration::from_secs(30));
        assert_eq!(parse_start_at("1800000030", now).unwrap(), at);
        assert_eq!(
            parse_start_at("1800000000.5", now).unwrap(),
            now + Duration::from_millis(500)
        );
        assert_eq!(format_start_at(at), "2027-01-15T08:00:30.000Z");
        // 4 s late is tolerated, 6 s is not; 23 h ahead is fine, 25 h is not.
        assert!(parse_start_at("1799999996", now).is_ok());
        assert!(matches!(
            parse_start_at("1799999994", now),
            Err(StartAtError::Past { .. })
        ));
        assert!(parse_start_at(&(1_800_000_000u64 + 23 * 3600).to_string(), now).is_ok());
        assert!(matches!(
            parse_start_at(&(1_800_000_000u64 + 25 * 3600).to_string(), now),
            Err(StartAtError::TooFar { .. })
        ));
        for bad in ["soon", "-5", "2027-13-01T00:00:00Z", "inf"] {
            assert!(
                matches!(parse_start_at(bad, now), Err(StartAtError::Syntax(_))),
                "{bad}"
            );
        }
    }
}
