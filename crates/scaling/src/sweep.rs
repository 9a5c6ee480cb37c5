//! The parameter sweep: a grid over policy parameters, derived parameters, a constraint and an
//! objective. Every combination is simulated (in parallel with rayon) and the rows are ranked; the
//! result does not depend on the number of threads.

use std::fmt::Write as _;

use rayon::prelude::*;
use scalelab_capacity::LinearCapacity;
use scalelab_shape::Shape;

use crate::expr::Expression;
use crate::sim::{SimConfig, Summary, simulate};
use crate::{ParamValue, Policy, PolicyError, check_param, set_params};

/// Most combinations one sweep may run.
const MAX_COMBINATIONS: usize = 1_000_000;

/// What to search.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Grid parameters and their values; the first one varies slowest.
    pub params: Vec<(String, Vec<f64>)>,
    /// Parameters computed from earlier ones: `(name, expression)`, in order.
    pub derived: Vec<(String, String)>,
    /// Rows must make this true to be ranked (e.g. `max_cpu<50`).
    pub constraint: Option<String>,
    pub objective: Objective,
}

/// The summary figure to rank by, and its direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub figure: String,
    pub maximize: bool,
}

/// One combination and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// Values of the grid parameters, then of the derived ones.
    pub values: Vec<f64>,
    /// The simulation's figures; `None` when the combination is not a valid policy.
    pub summary: Option<Summary>,
    pub meets_constraint: bool,
    /// 1 for the best row meeting the constraint; `None` for the others.
    pub rank: Option<usize>,
    /// Why the combination could not be simulated.
    pub error: Option<String>,
}

/// Why a sweep could not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    #[error("{0}")]
    Spec(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl Sweep {
    /// Column names for [`SweepRow::values`].
    pub fn columns(&self) -> Vec<&str> {
        self.params
            .iter()
            .map(|(name, _)| name.as_str())
            .chain(self.derived.iter().map(|(name, _)| name.as_str()))
            .collect()
    }

    /// Number of combinations in the grid.
    pub fn combinations(&self) -> usize {
        self.params.iter().map(|(_, values)| values.len()).product()
    }
}

/// Parses grid values: `1..9` (whole numbers, both ends included), `0.5..2:0.5` (with a step),
/// `1,2,5` (a list) or one number.
pub fn parse_range(text: &str) -> Result<Vec<f64>, String> {
    let number = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("'{}' in '{text}' is not a number", t.trim()))
    };
    if let Some((from, rest)) = text.split_once("..") {
        let (to, step) = match rest.split_once(':') {
            Some((to, step)) => (number(to)?, number(step)?),
            None => (number(rest)?, 1.0),
        };
        let from = number(from)?;
        if step <= 0.0 || to < from {
            return Err(format!(
                "'{text}' is empty: write FROM..TO[:STEP] with FROM <= TO and STEP > 0"
            ));
        }
        let count = ((to - from) / step + 1e-9).floor() as usize + 1;
        if count > MAX_COMBINATIONS {
            return Err(format!(
                "'{text}' has {count} values, more than {MAX_COMBINATIONS}"
            ));
        }
        return Ok((0..count).map(|i| from + step * i as f64).collect());
    }
    text.split(',').map(number).collect()
}

/// Runs every combination of `spec` on `base` and returns the rows ranked: the rows meeting the
/// constraint best first (ties in grid order), then the others in grid order.
pub fn sweep(
    base: &Policy,
    shape: &Shape,
    model: &LinearCapacity,
    config: &SimConfig,
    spec: &Sweep,
) -> Result<Vec<SweepRow>, SweepError> {
    config.steps(shape)?;
    let plan = Plan::new(base, config, spec)?;
    let config = SimConfig {
        record_timeline: false,
        ..*config
    };
    let mut rows: Vec<SweepRow> = (0..spec.combinations())
        .into_par_iter()
        .map(|index| plan.run(base, shape, model, &config, index))
        .collect();
    let mut ranked: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].meets_constraint)
        .collect();
    let objective = |row: &SweepRow| row.summary.as_ref().map_or(f64::NAN, |s| plan.objective(s));
    ranked.sort_by(|&a, &b| {
        let (x, y) = (objective(&rows[a]), objective(&rows[b]));
        let order = x.total_cmp(&y);
        if spec.objective.maximize {
            order.reverse()
        } else {
            order
        }
        .then(a.cmp(&b))
    });
    for (rank, &index) in ranked.iter().enumerate() {
        rows[index].rank = Some(rank + 1);
    }
    let rest: Vec<usize> = (0..rows.len())
        .filter(|i| rows[*i].rank.is_none())
        .collect();
    let order: Vec<usize> = ranked.into_iter().chain(rest).collect();
    let mut slots: Vec<Option<SweepRow>> = rows.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// The sweep table as CSV, every row (ranked rows first): rank, parameters, whether the constraint
/// holds, every summary figure (empty when not simulated), and why a row could not be simulated.
pub fn sweep_csv(spec: &Sweep, rows: &[SweepRow]) -> String {
    let mut csv = String::from("rank,");
    for column in spec.columns() {
        let _ = write!(csv, "{column},");
    }
    csv += "meets_constraint,";
    for figure in Summary::NAMES {
        let _ = write!(csv, "{figure},");
    }
    csv += "error\n";
    for row in rows {
        let _ = write!(
            csv,
            "{},",
            row.rank.map_or(String::new(), |r| r.to_string())
        );
        for value in &row.values {
            let _ = write!(csv, "{value},");
        }
        let _ = write!(csv, "{},", row.meets_constraint);
        for figure in Summary::NAMES {
            let value = row
                .summary
                .and_then(|s| s.figures().into_iter().find(|(name, _)| *name == figure))
                .map_or(String::new(), |(_, v)| format!("{v:.4}"));
            let _ = write!(csv, "{value},");
        }
        let _ = writeln!(
            csv,
            "\"{}\"",
            row.error.as_deref().unwrap_or("").replace('"', "'")
        );
    }
    csv
}

/// The checked, parsed form of a sweep.
struct Plan<'a> {
    spec: &'a Sweep,
    derived: Vec<Expression>,
    constraint: Option<Expression>,
}

impl<'a> Plan<'a> {
    fn new(base: &Policy, config: &SimConfig, spec: &'a Sweep) -> Result<Self, SweepError> {
        let fail = |m: String| Err(SweepError::Spec(m));
        if spec.params.is_empty() {
            return fail("give at least one --param NAME=RANGE".into());
        }
        let combinations = spec
            .params
            .iter()
            .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()));
        if combinations.is_none_or(|n| n > MAX_COMBINATIONS) {
            return fail(format!(
                "the grid has more than {MAX_COMBINATIONS} combinations"
            ));
        }
        let mut figures: Vec<&str> = Summary::NAMES.to_vec();
        if config.usd_per_hour.is_none() {
            figures.retain(|name| *name != "cost");
        }
        if !figures.contains(&spec.objective.figure.as_str()) {
            let hint = if spec.objective.figure == "cost" {
                " (cost needs an instance type with a price)".to_owned()
            } else {
                hint(&spec.objective.figure, &figures)
            };
            return fail(format!(
                "cannot rank by '{}'{hint}; figures: {}",
                spec.objective.figure,
                figures.join(", ")
            ));
        }
        let mut known: Vec<&str> = spec.params.iter().map(|(name, _)| name.as_str()).collect();
        let mut derived = Vec::new();
        for (name, text) in &spec.derived {
            let expression = Expression::parse(text)
                .map_err(|e| SweepError::Spec(format!("--derive {name}: {e}")))?;
            check_names(&expression, &known, &format!("--derive {name}={text}"))?;
            let trial: Vec<(&str, f64)> = known.iter().map(|known| (*known, 1.0)).collect();
            expression
                .number(&trial)
                .map_err(|e| SweepError::Spec(format!("--derive {name}: {e}")))?;
            known.push(name);
            derived.push(expression);
        }
        let constraint = match &spec.constraint {
            Some(text) => {
                let expression = Expression::parse(text)
                    .map_err(|e| SweepError::Spec(format!("--where {e}")))?;
                let visible: Vec<&str> = known.iter().chain(&figures).copied().collect();
                check_names(&expression, &visible, &format!("--where '{text}'"))?;
                // Evaluate once with every name at 1 so a malformed expression stops the sweep now.
                let trial: Vec<(&str, f64)> = visible.iter().map(|name| (*name, 1.0)).collect();
                expression
                    .boolean(&trial)
                    .map_err(|e| SweepError::Spec(format!("--where {e}")))?;
                Some(expression)
            }
            None => None,
        };
        for name in spec.columns() {
            check_param(base, name)?;
        }
        Ok(Self {
            spec,
            derived,
            constraint,
        })
    }

    fn objective(&self, summary: &Summary) -> f64 {
        summary
            .figures()
            .into_iter()
            .find(|(name, _)| *name == self.spec.objective.figure)
            .map_or(f64::NAN, |(_, value)| value)
    }

    /// Simulates combination `index` (mixed radix, the first parameter slowest).
    fn run(
        &self,
        base: &Policy,
        shape: &Shape,
        model: &LinearCapacity,
        config: &SimConfig,
        index: usize,
    ) -> SweepRow {
        let mut values = Vec::with_capacity(self.spec.params.len() + self.derived.len());
        let mut remainder = index;
        for (_, grid) in self.spec.params.iter().rev() {
            values.push(grid[remainder % grid.len()]);
            remainder /= grid.len();
        }
        values.reverse();
        let names = self.spec.columns();
        let mut row = SweepRow {
            values,
            summary: None,
            meets_constraint: false,
            rank: None,
            error: None,
        };
        let outcome = (|| -> Result<(Summary, bool), String> {
            for expression in &self.derived {
                let known: Vec<(&str, f64)> = names
                    .iter()
                    .copied()
                    .zip(row.values.iter().copied())
                    .collect();
                row.values.push(expression.number(&known)?);
            }
            let params: Vec<(&str, ParamValue)> = names
                .iter()
                .zip(&row.values)
                .map(|(name, value)| (*name, ParamValue::Number(*value)))
                .collect();
            let policy = set_params(base, &params).map_err(|e| e.to_string())?;
            let summary = simulate(shape, model, &policy, config)
                .map_err(|e| e.to_string())?
                .summary;
            let meets = match &self.constraint {
                Some(constraint) => {
                    let mut visible: Vec<(&str, f64)> = names
                        .iter()
                        .copied()
                        .zip(row.values.iter().copied())
                        .collect();
                    visible.extend(summary.figures());
                    constraint.boolean(&visible)?
                }
                None => true,
            };
            Ok((summary, meets))
        })();
        match outcome {
            Ok((summary, meets)) => {
                row.summary = Some(summary);
                row.meets_constraint = meets;
            }
            Err(error) => row.error = Some(error),
        }
        row
    }
}

fn hint(name: &str, known: &[&str]) -> String {
    scalelab_config::did_you_mean(name, known.iter().copied())
}

fn check_names(expression: &Expression, known: &[&str], context: &str) -> Result<(), SweepError> {
    for name in expression.variables() {
        if !known.contains(&name) {
            return Err(SweepError::Spec(format!(
                "{context}: unknown name '{name}'{}; known: {}",
                hint(name, known),
                known.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn setup() -> (Policy, Shape, LinearCapacity, SimConfig) {
        let policy = Policy::from_yaml(
            "max: 10\nstartup: 2m\nbeanstalk:\n  period: 1m\n  breach_duration: 1m\n  upper_threshold: 25\n  \
             lower_threshold: 15\n  cooldown: 0s\n",
        )
        .unwrap();
        let shape = scalelab_shape::parse_inline_stages("5m:100,5m:400,10m:400", 100.0).unwrap();
        let model = LinearCapacity::new(0.25, 0.0).unwrap();
        let config = SimConfig {
            step: Duration::from_secs(60),
            per: Duration::from_secs(60),
            cpu_limit: 50.0,
            usd_per_hour: None,
            record_timeline: false,
            credits: None,
        };
        (policy, shape, model, config)
    }

    fn spec(constraint: Option<&str>) -> Sweep {
        Sweep {
            params: vec![
                ("scale_up_increment".into(), parse_range("1..3").unwrap()),
                ("upper_threshold".into(), parse_range("20..30:5").unwrap()),
            ],
            derived: vec![(
                "lower_threshold".into(),
                "round(upper_threshold*0.7)".into(),
            )],
            constraint: constraint.map(str::to_owned),
            objective: Objective {
                figure: "mean_cpu".into(),
                maximize: true,
            },
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("11..14").unwrap(), [11.0, 12.0, 13.0, 14.0]);
        assert_eq!(parse_range("0.5..1.5:0.5").unwrap(), [0.5, 1.0, 1.5]);
        assert_eq!(parse_range("1,2,5").unwrap(), [1.0, 2.0, 5.0]);
        assert!(parse_range("9..1").is_err());
        assert!(parse_range("1..x").unwrap_err().contains("'x'"));
    }

    #[test]
    fn rows_are_ranked_filtered_and_deterministic() {
        let (policy, shape, model, config) = setup();
        let rows = sweep(&policy, &shape, &model, &config, &spec(Some("max_cpu<50"))).unwrap();
        assert_eq!(rows.len(), 9);
        // upper 25 derives lower round(17.5) = 18.
        let row = rows.iter().find(|r| r.values[..2] == [1.0, 25.0]).unwrap();
        assert_eq!(row.values[2], 18.0);
        let ranked: Vec<&SweepRow> = rows.iter().take_while(|r| r.rank.is_some()).collect();
        assert!(!ranked.is_empty() && ranked.len() < rows.len());
        for pair in ranked.windows(2) {
            assert!(pair[0].summary.unwrap().mean_cpu >= pair[1].summary.unwrap().mean_cpu);
        }
        for row in &rows {
            assert_eq!(row.meets_constraint, row.summary.unwrap().max_cpu < 50.0);
            assert_eq!(row.rank.is_some(), row.meets_constraint);
        }
        // The same inputs on one thread give the same table.
        let single = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = single
            .install(|| sweep(&policy, &shape, &model, &config, &spec(Some("max_cpu<50"))))
            .unwrap();
        assert_eq!(again, rows);

        let table = sweep_csv(&spec(Some("max_cpu<50")), &rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "rank,scale_up_increment,upper_threshold,lower_threshold,meets_constraint,max_cpu,\
             mean_cpu,time_above_limit,offered_requests,served_requests,unserved_requests,\
             instance_hours,peak_instances,scaling_events,throttled_seconds,surplus_credits,cost,error"
        );
        assert_eq!(lines.len(), 1 + 9);
        let best = rows[0].summary.unwrap();
        let values: Vec<String> = rows[0].values.iter().map(|v| v.to_string()).collect();
        assert!(lines[1].starts_with(&format!("1,{},true,{:.4},", values.join(","), best.max_cpu)));
        // No price: the cost cell is empty; no error: an empty quoted cell.
        assert!(lines[1].ends_with(",,\"\""), "{}", lines[1]);
        assert!(
            lines[9].starts_with(",") && lines[9].contains(",false,"),
            "{}",
            lines[9]
        );
    }

    #[test]
    fn bad_specs_are_reported_before_running() {
        let (policy, shape, model, config) = setup();
        let run = |spec: Sweep| {
            sweep(&policy, &shape, &model, &config, &spec)
                .unwrap_err()
                .to_string()
        };
        let mut typo = spec(Some("max_cpo<50"));
        assert!(run(typo.clone()).contains("unknown name 'max_cpo' (did you mean 'max_cpu'?)"));
        typo.constraint = None;
        typo.params[0].0 = "scale_up_incremnt".into();
        assert!(run(typo).contains("did you mean 'scale_up_increment'"));
        let mut cost = spec(None);
        cost.objective.figure = "cost".into();
        assert!(run(cost).contains("cost needs an instance type"));
        let mut derive = spec(None);
        derive.derived[0].1 = "round(upper*0.7)".into();
        assert!(
            run(derive).contains("--derive lower_threshold=round(upper*0.7): unknown name 'upper'")
        );
    }
}
