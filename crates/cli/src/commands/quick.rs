//! `scalelab quick URL`: a one-line test for `hey` and `oha` users.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use scalelab_load::plan::{
    Body, Defaults, Executor, Flow, HttpVersion, Iteration, Plan, Request, Scenario, Step,
};

use super::execute::{ExecArgs, execute};

#[derive(Args)]
pub struct QuickArgs {
    /// The URL to load.
    #[arg(value_parser = crate::args::http_url)]
    url: String,
    /// Concurrent virtual users (connections).
    #[arg(short = 'c', long, default_value_t = 50, value_parser = crate::args::vus)]
    connections: u64,
    /// How long to run.
    #[arg(short = 'z', long, value_parser = crate::args::positive_duration, default_value = "10s")]
    duration: Duration,
    /// Send this many requests in total instead of running for a duration.
    #[arg(short = 'n', long, conflicts_with = "rate")]
    requests: Option<u64>,
    /// Requests per second (open model, as wrk2 and oha: a request that finds every connection busy
    /// waits for the next free one, and its latency counts from its scheduled send time; requests
    /// still waiting when the duration ends are dropped and counted).
    #[arg(short = 'q', long, value_parser = crate::args::rate)]
    rate: Option<f64>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    method: String,
    /// A request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Request body.
    #[arg(short = 'd', long)]
    body: Option<String>,
    /// Per-request timeout.
    #[arg(short = 't', long, value_parser = crate::args::positive_duration, default_value = "60s")]
    timeout: Duration,
    /// Speak HTTP/2 only (ALPN h2 over TLS, prior knowledge on plain HTTP).
    #[arg(long)]
    http2: bool,
    /// Accept any TLS certificate.
    #[arg(long)]
    insecure: bool,
    #[command(flatten)]
    exec: ExecArgs,
}

pub async fn run(args: QuickArgs) -> anyhow::Result<ExitCode> {
    let plan = args.plan()?;
    execute(plan, &args.exec).await
}

impl QuickArgs {
    fn plan(&self) -> anyhow::Result<Plan> {
        let headers = self
            .headers
            .iter()
            .map(|header| {
                header
                    .split_once(':')
                    .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
                    .ok_or_else(|| anyhow::anyhow!("header '{header}' is not 'Name: value'"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let name = self
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
            .unwrap_or_else(|| "/".to_owned());
        let request = Request {
            name,
            method: self.method.to_ascii_uppercase(),
            url: self.url.clone(),
            headers,
            body: self.body.clone().map(Body::Text),
            checks: Vec::new(),
            tags: Vec::new(),
        };
        let executor = match (self.rate, self.requests) {
            (Some(rate), _) => Executor::FixedRate {
                rate,
                duration: self.duration,
                connections: self.connections,
            },
            (None, Some(iterations)) => Executor::SharedIterations {
                vus: self.connections,
                iterations,
                max_duration: Duration::from_secs(24 * 3600),
            },
            (None, None) => Executor::ConstantVus {
                vus: self.connections,
                duration: self.duration,
            },
        };
        Ok(Plan {
            target: Some(self.url.clone()),
            defaults: Defaults {
                timeout: self.timeout,
                http: if self.http2 {
                    HttpVersion::Http2
                } else {
                    HttpVersion::Auto
                },
                insecure: self.insecure,
                ..Defaults::default()
            },
            thresholds: Vec::new(),
            scenarios: vec![Scenario {
                name: "quick".into(),
                executor,
                iteration: Iteration {
                    flows: vec![Flow {
                        name: request.name.clone(),
                        weight: 1,
                        steps: vec![Step::Request(request)],
                    }],
                    think: None,
                },
                start_time: Duration::ZERO,
                graceful_stop: Duration::from_secs(2),
                tags: Vec::new(),
            }],
            warnings: Vec::new(),
        })
    }
}
