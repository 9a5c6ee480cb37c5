//! What a person sees while a run lasts, and where its seconds go: the results files and the
//! Prometheus exporter.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use scalelab_load::engine::{CompiledPlan, Observer, Progress};
use scalelab_metrics::Interval;
use scalelab_metrics::output::ResultsWriter;
use scalelab_report::RunMetrics;
use scalelab_shape::Shard;

/// What a person sees while the run lasts: on a terminal a bar per scenario refreshed every second;
/// otherwise (CI, pipes) a plain status line every 10 s. Also streams each completed second to the
/// results files and the Prometheus exporter.
pub(crate) struct Console {
    pub(crate) writer: Option<ResultsWriter>,
    pub(crate) write_error: Option<std::io::Error>,
    exporter: Option<RunMetrics>,
    /// The part of the test this process runs: its lines compare its own share of the rates.
    shard: Shard,
    view: View,
}

enum View {
    Quiet,
    Bars(Vec<ProgressBar>),
    Lines {
        planned: Duration,
        last: Option<Instant>,
    },
}

impl Console {
    pub(crate) fn new(
        writer: Option<ResultsWriter>,
        plan: &CompiledPlan,
        quiet: bool,
        exporter: Option<RunMetrics>,
        shard: Shard,
    ) -> Self {
        let view = if quiet {
            View::Quiet
        } else if std::io::stderr().is_terminal() {
            let bars = MultiProgress::new();
            let style =
                ProgressStyle::with_template("{prefix:>14} [{bar:24}] {pos:>4}/{len}s  {msg}")
                    .expect("a valid template")
                    .progress_chars("=> ");
            View::Bars(
                plan.scenarios
                    .iter()
                    .map(|scenario| {
                        let length = (scenario.start_time + scenario.duration()).as_secs();
                        let bar = bars.add(ProgressBar::new(length.max(1)));
                        bar.set_style(style.clone());
                        bar.set_prefix(scenario.name.clone());
                        bar
                    })
                    .collect(),
            )
        } else {
            View::Lines {
                planned: plan.duration(),
                last: None,
            }
        };
        Self {
            writer,
            write_error: None,
            exporter,
            shard,
            view,
        }
    }

    /// Leaves the bars on screen as they are, before the summary is printed.
    pub(crate) fn finish(&mut self) {
        if let View::Bars(bars) = &self.view {
            bars.iter().for_each(ProgressBar::abandon);
        }
    }
}

impl Observer for Console {
    fn on_interval(&mut self, interval: &Interval, progress: &Progress<'_>) {
        let endpoints = progress.plan.endpoints();
        if let Some(writer) = &mut self.writer {
            writer.learn_endpoints(&endpoints);
        }
        if let Some(writer) = &mut self.writer
            && let Err(error) = writer.push(interval)
        {
            self.write_error.get_or_insert(error);
        }
        if let Some(exporter) = &self.exporter {
            exporter.update(interval);
        }
        match &mut self.view {
            View::Quiet => {}
            View::Bars(bars) => {
                for (scenario, bar) in progress.plan.scenarios.iter().zip(bars) {
                    bar.set_position(progress.elapsed.as_secs().min(bar.length().unwrap_or(0)));
                    bar.set_message(scalelab_report::scenario_line(
                        interval,
                        &endpoints,
                        (scenario.index, &scenario.name),
                        scenario
                            .target_rate(progress.elapsed)
                            .map(|rate| self.shard.rate_share(rate)),
                    ));
                }
            }
            View::Lines { planned, last } => {
                if last.is_some_and(|last| last.elapsed() < Duration::from_secs(10)) {
                    return;
                }
                *last = Some(Instant::now());
                let rates: Vec<f64> = progress
                    .plan
                    .scenarios
                    .iter()
                    .filter_map(|s| s.target_rate(progress.elapsed))
                    .map(|rate| self.shard.rate_share(rate))
                    .collect();
                eprintln!(
                    "{}",
                    scalelab_report::progress_line(
                        interval,
                        progress.elapsed,
                        *planned,
                        (!rates.is_empty()).then(|| rates.iter().sum()),
                        (progress.total.requests(), progress.total.failures())
                    )
                );
            }
        }
    }
}
