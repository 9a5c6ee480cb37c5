//! Helpers shared by the target's integration tests: start a service, fetch, parse Prometheus text.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use scalelab_stress::{RunningTarget, TargetConfig};

pub async fn start(config: TargetConfig) -> RunningTarget {
    scalelab_stress::start(config).await.expect("target starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// GET `path` and return (status, JSON body).
pub async fn get(target: &RunningTarget, path: &str) -> (u16, serde_json::Value) {
    let response = client()
        .get(format!("{}{path}", target.url()))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// One sample of a Prometheus exposition: name, labels, value.
#[derive(Debug)]
pub struct PromSample {
    pub name: String,
    pub labels: HashMap<String, String>,
    pub value: f64,
}

/// Parses Prometheus / OpenMetrics text, failing on any line that is not valid exposition syntax
/// or any sample whose family has no `# TYPE` line.
pub fn parse_prometheus(text: &str) -> Vec<PromSample> {
    let mut families: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let fail = |why: &str| -> ! { panic!("line {}: {why}: {line:?}", number + 1) };
        if line == "# EOF" || line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap_or_else(|| fail("TYPE without name"));
            let kind = parts.next().unwrap_or_else(|| fail("TYPE without kind"));
            if ![
                "counter",
                "gauge",
                "histogram",
                "summary",
                "unknown",
                "info",
                "stateset",
            ]
            .contains(&kind)
            {
                fail("unknown metric type");
            }
            families.push(name.to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            fail("unexpected comment or blank line");
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| fail("no value"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| fail("value is not a number"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| fail("unclosed labels"));
                let labels = body
                    .split(',')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, quoted) = pair
                            .split_once('=')
                            .unwrap_or_else(|| fail("label without ="));
                        let value = quoted
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .unwrap_or_else(|| fail("label value not quoted"));
                        (key.to_owned(), value.to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, HashMap::new()),
        };
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            fail("bad metric name");
        }
        if !families
            .iter()
            .any(|family| name.starts_with(family.as_str()))
        {
            fail("sample without a # TYPE line");
        }
        samples.push(PromSample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// The value of the sample `name` whose labels include all of `labels`, if any.
pub fn value(samples: &[PromSample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

pub async fn scrape(target: &RunningTarget) -> Vec<PromSample> {
    let text = client()
        .get(format!("{}/metrics", target.url()))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    parse_prometheus(&text)
}

/// Waits until `requests` requests besides the scrape itself are in flight, as the service's own
/// gauge reports, polling for at most 30 s.
pub async fn wait_in_flight(target: &RunningTarget, requests: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // The scrape is a request in flight too.
    while value(&scrape(target).await, "http_requests_in_flight", &[]) < Some(requests as f64 + 1.0)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{requests} requests were never in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
