//! A weekly schedule of instance counts, e.g. `mon-fri 08:00-20:00=5, otherwise=1`.

use crate::{CapacityError, MAX_INSTANCES};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTES_PER_DAY: u32 = 24 * 60;

/// Instance counts by day of week and time of day; the first matching rule wins, `otherwise` elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklySchedule {
    rules: Vec<ScheduleRule>,
    otherwise: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct ScheduleRule {
    /// Monday first.
    days: [bool; 7],
    /// Minutes after midnight, `start < end <= 1440`.
    start: u32,
    end: u32,
    instances: u32,
}

impl WeeklySchedule {
    /// Parses rules separated by `,` or `;`: `DAYS HH:MM-HH:MM=N` and `otherwise=N` (default 0).
    /// DAYS is a day (`mon`..`sun`), a range (`mon-fri`), `weekdays`, `weekends` or `daily`.
    pub fn parse(text: &str) -> Result<Self, CapacityError> {
        let mut schedule = Self {
            rules: Vec::new(),
            otherwise: 0,
        };
        for part in text
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let invalid =
                |why: String| CapacityError::Invalid(format!("schedule rule '{part}': {why}"));
            let (when, count) = part
                .rsplit_once('=')
                .ok_or_else(|| invalid("expected 'DAYS HH:MM-HH:MM=N' or 'otherwise=N'".into()))?;
            let instances: u32 = count
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= MAX_INSTANCES)
                .ok_or_else(|| {
                    invalid(format!(
                        "'{}' is not a whole number of instances up to {MAX_INSTANCES}",
                        count.trim()
                    ))
                })?;
            let when = when.trim().to_ascii_lowercase();
            if when == "otherwise" {
                schedule.otherwise = instances;
                continue;
            }
            let (days, hours) = when
                .split_once(char::is_whitespace)
                .ok_or_else(|| invalid("expected 'DAYS HH:MM-HH:MM=N'".into()))?;
            let (start, end) = hours
                .trim()
                .split_once('-')
                .ok_or_else(|| invalid(format!("'{hours}' is not HH:MM-HH:MM")))?;
            let (start, end) = (
                parse_clock(start).map_err(invalid)?,
                parse_clock(end).map_err(invalid)?,
            );
            if start >= end {
                return Err(invalid(
                    "the end must come after the start on the same day (split a night into two rules)".into(),
                ));
            }
            schedule.rules.push(ScheduleRule {
                days: parse_days(days).map_err(invalid)?,
                start,
                end,
                instances,
            });
        }
        if schedule.rules.is_empty() && text.trim().is_empty() {
            return Err(CapacityError::Invalid("the schedule is empty".into()));
        }
        Ok(schedule)
    }

    /// Instances running at `minute` of the week (0 = Monday 00:00).
    pub fn instances_at(&self, minute: u32) -> u32 {
        let (day, time) = (
            (minute / MINUTES_PER_DAY) as usize % 7,
            minute % MINUTES_PER_DAY,
        );
        self.rules
            .iter()
            .find(|rule| rule.days[day] && (rule.start..rule.end).contains(&time))
            .map_or(self.otherwise, |rule| rule.instances)
    }

    /// Instance-hours in one week.
    pub fn instance_hours_per_week(&self) -> f64 {
        let minutes: u64 = (0..7 * MINUTES_PER_DAY)
            .map(|minute| u64::from(self.instances_at(minute)))
            .sum();
        minutes as f64 / 60.0
    }

    /// The most instances running at once.
    pub fn peak(&self) -> u32 {
        self.rules
            .iter()
            .map(|rule| rule.instances)
            .fold(self.otherwise, u32::max)
    }
}

fn parse_clock(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let parsed = text
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)));
    match parsed {
        Some((h, m)) if m < 60 && (h < 24 || (h == 24 && m == 0)) => Ok(h * 60 + m),
        _ => Err(format!(
            "'{text}' is not a time of day HH:MM (00:00 to 24:00)"
        )),
    }
}

fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let day = |name: &str| {
        DAYS.iter()
            .position(|d| *d == name)
            .ok_or_else(|| format!("'{name}' is not a day (mon..sun, weekdays, weekends, daily)"))
    };
    let (first, last) = match text {
        "daily" => (0, 6),
        "weekdays" => (0, 4),
        "weekends" => (5, 6),
        _ => match text.split_once('-') {
            Some((from, to)) => (day(from)?, day(to)?),
            None => (day(text)?, day(text)?),
        },
    };
    if first > last {
        return Err(format!(
            "day range '{text}' runs backwards (weeks start on mon)"
        ));
    }
    let mut days = [false; 7];
    days[first..=last].fill(true);
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_hours_schedule_has_408_instance_hours_a_week() {
        // 5 instances x 12 h x 5 weekdays = 300; 1 instance the other 168 - 60 = 108 h.
        let schedule = WeeklySchedule::parse("mon-fri 08:00-20:00=5, otherwise=1").unwrap();
        assert_eq!(schedule.instance_hours_per_week(), 408.0);
        assert_eq!(schedule.instances_at(8 * 60), 5); // Monday 08:00
        assert_eq!(schedule.instances_at(20 * 60), 1); // Monday 20:00
        assert_eq!(schedule.instances_at(5 * 1440 + 9 * 60), 1); // Saturday 09:00
        assert_eq!(schedule.peak(), 5);
        let same = WeeklySchedule::parse("weekdays 08:00-20:00=5; otherwise=1").unwrap();
        assert_eq!(same, schedule);
    }

    #[test]
    fn first_rule_wins_and_bad_rules_say_why() {
        let schedule = WeeklySchedule::parse("sat 00:00-24:00=3, daily 00:00-24:00=2").unwrap();
        assert_eq!(schedule.instance_hours_per_week(), 24.0 * 3.0 + 144.0 * 2.0);
        for (bad, says) in [
            ("mon-fri 08:00-20:00", "expected"),
            ("mon-fri 20:00-08:00=2", "split a night"),
            ("fri-mon 08:00-20:00=2", "backwards"),
            ("mondays 08:00-20:00=2", "not a day"),
            ("mon 8-20=2", "HH:MM"),
            ("otherwise=many", "whole number"),
            ("otherwise=4000000000", "up to 1000000"),
        ] {
            let error = WeeklySchedule::parse(bad).unwrap_err().to_string();
            assert!(
                error.contains(says) && error.contains(bad),
                "{bad}: {error}"
            );
        }
    }
}
