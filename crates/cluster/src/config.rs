//! The cluster file: groups of replicas, the load balancer's listener rules, health checks and
//! policies. YAML or JSON; unknown fields are errors naming the nearest known field.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use scalelab_scaling::{Beanstalk, Hpa, Policy, SimpleScaling, StepScaling, TargetTracking};
use serde::{Deserialize, Deserializer};

/// Why a cluster file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
}

/// Most replicas one group may have: they all run on this machine.
pub const MAX_REPLICAS: u32 = 256;

/// A whole cluster: one load balancer in front of one or more groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Where the load balancer listens; port 0 (the default) picks a free port.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    pub groups: Vec<GroupConfig>,
    /// Listener rules, tried in order: the first whose prefix matches the path wins.
    #[serde(default)]
    pub rules: Vec<ListenerRule>,
    /// The group of requests no rule matches [default: the first group].
    #[serde(default)]
    pub default_group: Option<String>,
    /// What the load balancer allows its clients.
    #[serde(default)]
    pub client: ClientLimits,
}

/// Limits on the load balancer's clients, against careless and hostile ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLimits {
    /// Longest wait for a request's head, counted from the connection's start or the end of its
    /// previous response: closes slow (slowloris) and idle keep-alive connections.
    #[serde(
        default = "ten_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub header_timeout: Duration,
    /// Longest silence while a request body is being received (408 beyond).
    #[serde(
        default = "sixty_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub idle_timeout: Duration,
    /// Largest request body, in bytes or as `64MiB` (413 beyond).
    #[serde(default = "default_max_body", deserialize_with = "size")]
    pub max_request_body: u64,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            header_timeout: ten_seconds(),
            idle_timeout: sixty_seconds(),
            max_request_body: default_max_body(),
        }
    }
}

/// Routes paths under `path` to `group`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerRule {
    /// A path prefix such as `/cluster1`; matches `/cluster1` and `/cluster1/...`.
    pub path: String,
    pub group: String,
    /// Remove the prefix before forwarding (`/cluster1/ping` reaches the replica as `/ping`).
    #[serde(default)]
    pub strip_prefix: bool,
}

/// How a group picks the backend of each request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    #[default]
    RoundRobin,
    /// The backend with the fewest requests in flight (ties: round robin).
    LeastOutstandingRequests,
}

/// Replicas of one command behind the load balancer, as an Auto Scaling group and its target group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub name: String,
    /// Options of the embedded stress service (`scalelab serve`), e.g. `--mode sync --workers 2`;
    /// checked when the file is read.
    #[serde(default, deserialize_with = "serve_options")]
    pub serve: Vec<String>,
    /// Any command line instead of the stress service; `{port}` is replaced by the replica's port
    /// (also given as the PORT environment variable). Words split on spaces, or a list.
    #[serde(default, deserialize_with = "optional_words")]
    pub command: Option<Vec<String>>,
    #[serde(default = "one")]
    pub min: u32,
    pub max: u32,
    /// Replicas at the start [default: min].
    #[serde(default)]
    pub initial: Option<u32>,
    /// The share of a core one replica stands for: CPU % = CPU seconds / (elapsed x vcpus) x 100.
    #[serde(default = "one_f64")]
    pub vcpus: f64,
    /// Memory one replica stands for, in MiB: memory % = resident memory / this x 100
    /// [default: the host's memory].
    #[serde(default)]
    pub memory_mib: Option<f64>,
    #[serde(default)]
    pub algorithm: Algorithm,
    #[serde(default)]
    pub health_check: HealthCheck,
    /// How long a new replica may take to pass its health check before it is replaced.
    #[serde(
        default = "thirty_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub startup_grace: Duration,
    /// How long a draining replica may finish its in-flight requests before it is stopped.
    #[serde(
        default = "five_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub deregistration_delay: Duration,
    /// From SIGTERM to SIGKILL when a replica is stopped.
    #[serde(
        default = "five_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub stop_grace: Duration,
    /// Longest wait for a backend's answer; beyond it the load balancer answers 504.
    #[serde(
        default = "sixty_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub backend_timeout: Duration,
    /// An autoscaling policy of the `scaling` crate; without one the group keeps `initial` replicas.
    #[serde(default)]
    pub policy: Option<GroupPolicy>,
}

/// Active health checks, as an ALB target group does them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    #[serde(default = "health_path")]
    pub path: String,
    #[serde(
        default = "five_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub interval: Duration,
    #[serde(
        default = "two_seconds",
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub timeout: Duration,
    /// Consecutive passes that put a backend (back) in rotation.
    #[serde(default = "two")]
    pub healthy_threshold: u32,
    /// Consecutive failures that take a backend out of rotation.
    #[serde(default = "two")]
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            path: health_path(),
            interval: five_seconds(),
            timeout: two_seconds(),
            healthy_threshold: 2,
            unhealthy_threshold: 2,
        }
    }
}

/// The rules of a group's policy, as in a policy file (hpa, beanstalk, or AWS policies of any types),
/// with its instance start-up time; min, max and initial are the group's. The fields repeat the
/// policy's rather than flattening a shared type: serde's `flatten` loses the line and the list of
/// expected names in unknown-field errors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPolicy {
    /// Start-up time the policy's warm-up counts from launch (replicas really start as fast as they do).
    #[serde(
        default,
        deserialize_with = "scalelab_config::duration_serde::deserialize"
    )]
    pub startup: Duration,
    #[serde(default)]
    pub simple: Option<Vec<SimpleScaling>>,
    #[serde(default)]
    pub step: Option<Vec<StepScaling>>,
    #[serde(
        default,
        deserialize_with = "scalelab_scaling::one_or_many::deserialize"
    )]
    pub target_tracking: Option<Vec<TargetTracking>>,
    #[serde(default)]
    pub hpa: Option<Hpa>,
    #[serde(default)]
    pub beanstalk: Option<Beanstalk>,
}

impl GroupConfig {
    /// The value of `--name` among the `serve` options, if given.
    pub fn serve_option(&self, name: &str) -> Option<&str> {
        option_value(&self.serve, name)
    }

    /// Replicas at the start.
    pub fn initial(&self) -> u32 {
        self.initial.unwrap_or(self.min)
    }

    /// The group's policy with its limits, for [`scalelab_scaling::Autoscaler::new`].
    pub fn policy(&self) -> Option<Policy> {
        let rules = self.policy.clone()?;
        Some(Policy {
            min: self.min,
            max: self.max,
            initial: Some(self.initial()),
            startup: rules.startup,
            scale_in: Default::default(),
            simple: rules.simple,
            step: rules.step,
            target_tracking: rules.target_tracking,
            hpa: rules.hpa,
            beanstalk: rules.beanstalk,
        })
    }

    fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        // The name is part of file names in the results (replicas/<name>-<id>.stderr,
        // policies/<name>.yaml).
        let file_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.starts_with('.') || !name.chars().all(file_safe) {
            return Err(format!(
                "group '{name}': a name is letters, digits, '-', '_' and '.', not starting with '.'"
            ));
        }
        if self.max == 0 || self.min > self.max {
            return Err(format!(
                "group '{name}': min ({}) must not exceed max ({}), and max must be at least 1",
                self.min, self.max
            ));
        }
        if self.max > MAX_REPLICAS {
            return Err(format!(
                "group '{name}': max ({}) is more replicas than one machine runs (at most {MAX_REPLICAS})",
                self.max
            ));
        }
        if !(self.min..=self.max).contains(&self.initial()) {
            return Err(format!(
                "group '{name}': initial ({}) must be between min ({}) and max ({})",
                self.initial(),
                self.min,
                self.max
            ));
        }
        if !(self.vcpus.is_finite() && self.vcpus > 0.0) {
            return Err(format!(
                "group '{name}': vcpus must be above 0, not {}",
                self.vcpus
            ));
        }
        if self.memory_mib.is_some_and(|m| !(m.is_finite() && m > 0.0)) {
            return Err(format!("group '{name}': memory_mib must be above 0"));
        }
        if let Some(command) = &self.command {
            if !self.serve.is_empty() {
                return Err(format!(
                    "group '{name}': give either serve (options of the stress service) or command, not both"
                ));
            }
            if !command.iter().any(|word| word.contains("{port}")) {
                return Err(format!(
                    "group '{name}': command must contain {{port}} where the replica's port goes"
                ));
            }
        }
        let check = &self.health_check;
        if !check.path.starts_with('/') {
            return Err(format!(
                "group '{name}': health_check.path must start with '/', not '{}'",
                check.path
            ));
        }
        if check.interval.is_zero() || check.timeout.is_zero() {
            return Err(format!(
                "group '{name}': health_check interval and timeout must be above 0"
            ));
        }
        if check.healthy_threshold == 0 || check.unhealthy_threshold == 0 {
            return Err(format!(
                "group '{name}': health_check thresholds must be at least 1"
            ));
        }
        if let Some(policy) = self.policy() {
            policy
                .validate()
                .map_err(|e| format!("group '{name}': {e}"))?;
        }
        Ok(())
    }
}

impl ClusterConfig {
    /// Reads and checks a cluster file; errors name the file and, for syntax, the line.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = scalelab_config::read_text_bounded(path, scalelab_config::MAX_CONFIG_BYTES)
            .map_err(|source| ConfigError::Read {
                file: file.clone(),
                source,
            })?;
        Self::from_yaml(&text).map_err(|message| ConfigError::Invalid { file, message })
    }

    /// Reads and checks a cluster from YAML (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let config: Self = serde_saphyr::from_str(text).map_err(|e| {
            // A key given twice is refused by the YAML reader, whose advice is for programmers.
            let message = e.to_string().replace(
                ", set DuplicateKeyPolicy in Options if acceptable",
                " (give each key once)",
            );
            scalelab_config::with_nearest_field(&message)
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The stress caps each group's embedded replicas get, as `serve` options, so that all replicas
    /// together may stress no more than one service alone on this host: 100 % of the cores and
    /// `memory_bytes` (what `scalelab serve` takes: half the available memory). A group's own
    /// `--cpu-cap`/`--memory-cap` is kept, and the rest is shared among the other groups' replicas by
    /// their `max`. Custom-command groups get none.
    pub fn stress_caps(&self, memory_bytes: u64) -> Result<Vec<Vec<String>>, String> {
        let builtin = || self.groups.iter().filter(|g| g.command.is_none());
        let given = |name: &str, parse: fn(&str) -> Option<f64>| {
            builtin()
                .filter_map(|g| Some(parse(g.serve_option(name)?)? * f64::from(g.max)))
                .sum::<f64>()
        };
        let sharing = |name: &str| {
            builtin()
                .filter(|g| g.serve_option(name).is_none())
                .map(|g| f64::from(g.max))
                .sum::<f64>()
        };
        let cpu_given = given("--cpu-cap", |v| v.parse().ok());
        let memory_given = given("--memory-cap", |v| size_of(v).ok().map(|b| b as f64));
        if cpu_given > 100.0 + 1e-9 {
            return Err(format!(
                "the groups' --cpu-cap x max add up to {cpu_given}% of the cores (at most 100%)"
            ));
        }
        if memory_given > memory_bytes as f64 {
            return Err(format!(
                "the groups' --memory-cap x max add up to {memory_given:.0} bytes, more than the \
                 {memory_bytes} bytes all replicas may stress on this host (half the available memory)"
            ));
        }
        let cpu_share = (100.0 - cpu_given) / sharing("--cpu-cap").max(1.0);
        let memory_share = (memory_bytes as f64 - memory_given) / sharing("--memory-cap").max(1.0);
        Ok(self
            .groups
            .iter()
            .map(|g| {
                let mut caps = Vec::new();
                if g.command.is_some() {
                    return caps;
                }
                if g.serve_option("--cpu-cap").is_none() {
                    caps.extend(["--cpu-cap".to_owned(), format!("{cpu_share}")]);
                }
                if g.serve_option("--memory-cap").is_none() {
                    caps.extend([
                        "--memory-cap".to_owned(),
                        format!("{}", memory_share.floor()),
                    ]);
                }
                caps
            })
            .collect())
    }

    /// Gives the group `name` the rule, start-up time and limits (min, max, initial) of `policy`, as
    /// read from a policy file (native, HPA manifest or Terraform).
    pub fn set_policy(&mut self, name: &str, policy: Policy) -> Result<(), String> {
        let index = self
            .group_index(name)
            .ok_or_else(|| format!("no group is named '{name}'"))?;
        let group = &mut self.groups[index];
        group.min = policy.min;
        group.max = policy.max;
        group.initial = policy.initial;
        group.policy = Some(GroupPolicy {
            startup: policy.startup,
            simple: policy.simple,
            step: policy.step,
            target_tracking: policy.target_tracking,
            hpa: policy.hpa,
            beanstalk: policy.beanstalk,
        });
        group.validate()
    }

    /// The index of the group named `name`.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    fn validate(&self) -> Result<(), String> {
        if self.groups.is_empty() {
            return Err("a cluster needs at least one group".into());
        }
        for (i, group) in self.groups.iter().enumerate() {
            if self.groups[..i].iter().any(|g| g.name == group.name) {
                return Err(format!("two groups are named '{}'", group.name));
            }
            group.validate()?;
        }
        let known = |name: &str, field: &str| match self.group_index(name) {
            Some(_) => Ok(()),
            None => Err(format!(
                "{field} names group '{name}', which is not defined (groups: {})",
                self.groups
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        for (i, rule) in self.rules.iter().enumerate() {
            known(&rule.group, &format!("rules[{i}].group"))?;
            if !rule.path.starts_with('/') {
                return Err(format!(
                    "rules[{i}].path must start with '/', not '{}'",
                    rule.path
                ));
            }
        }
        if let Some(name) = &self.default_group {
            known(name, "default_group")?;
        }
        let client = &self.client;
        if client.header_timeout.is_zero() || client.idle_timeout.is_zero() {
            return Err("client.header_timeout and client.idle_timeout must be above 0".into());
        }
        if client.max_request_body == 0 {
            return Err("client.max_request_body must be above 0".into());
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Words {
    Line(String),
    List(Vec<String>),
}

impl Words {
    fn split(self) -> Vec<String> {
        match self {
            Words::Line(line) => line.split_whitespace().map(str::to_owned).collect(),
            Words::List(list) => list,
        }
    }
}

fn words<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Words::deserialize(d).map(Words::split)
}

/// The `serve` options, checked as `scalelab serve` would check them: a typo fails when the file is
/// read, not when the first replica dies. `--listen`, `--port` and `--parent-pid` belong to the cluster.
fn serve_options<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let words = words(d)?;
    check_serve_options(&words).map_err(serde::de::Error::custom)?;
    Ok(words)
}

/// Checks one option's value; the error says what was expected.
type CheckValue = fn(&str) -> Result<(), String>;

/// Options of `scalelab serve` a cluster file may give, and how each value is checked.
const SERVE_OPTIONS: [(&str, CheckValue); 9] = [
    ("--mode", |v| match v {
        "async" | "sync" => Ok(()),
        _ => Err("async or sync".into()),
    }),
    ("--workers", |v| positive(v).map(drop)),
    ("--backlog", |v| {
        v.parse::<u32>()
            .map(drop)
            .map_err(|_| "a whole number".into())
    }),
    ("--token", |_| Ok(())),
    ("--seed", |v| {
        v.parse::<u64>()
            .map(drop)
            .map_err(|_| "a whole number".into())
    }),
    ("--memory-cap", |v| size_of(v).map(drop)),
    ("--cpu-cap", |v| match v.parse::<f64>() {
        Ok(cap) if cap > 0.0 && cap <= 100.0 => Ok(()),
        _ => Err("a % of all cores above 0 and at most 100".into()),
    }),
    ("--grace", |v| {
        scalelab_config::parse_duration(v)
            .map(drop)
            .map_err(|e| e.to_string())
    }),
    (
        "--header-timeout",
        |v| match scalelab_config::parse_duration(v) {
            Ok(d) if !d.is_zero() => Ok(()),
            _ => Err("a duration above 0 such as 10s".into()),
        },
    ),
];

fn positive(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| "a whole number of at least 1".into())
}

fn size_of(value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|_| "a size such as 512MiB".into())
}

/// Checks each option's name and value, and that none is given twice (`scalelab serve` would refuse
/// it, or the stress caps would read one value and the replica another).
fn check_serve_options(words: &[String]) -> Result<(), String> {
    let mut seen = Vec::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (word.as_str(), None),
        };
        if ["--listen", "--port", "--parent-pid"].contains(&name) {
            return Err(format!(
                "serve: {name} is set by the cluster for each replica"
            ));
        }
        let Some((_, check)) = SERVE_OPTIONS.iter().find(|(known, _)| *known == name) else {
            let nearest =
                scalelab_config::did_you_mean(name, SERVE_OPTIONS.iter().map(|(known, _)| *known));
            return Err(format!("serve: unknown option '{name}'{nearest}"));
        };
        if seen.contains(&name) {
            return Err(format!(
                "serve: {name} is given twice (give each option once)"
            ));
        }
        seen.push(name);
        let value = inline
            .or_else(|| words.next().cloned())
            .ok_or_else(|| format!("serve: {name} needs a value"))?;
        check(&value).map_err(|expected| format!("serve: {name} '{value}' is not {expected}"))?;
    }
    Ok(())
}

/// The value of option `name` in `words` (`--name value` or `--name=value`).
fn option_value<'a>(words: &'a [String], name: &str) -> Option<&'a str> {
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if word == name {
            return iter.next().map(String::as_str);
        }
        if let Some(value) = word
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value);
        }
    }
    None
}

fn optional_words<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Option::<Words>::deserialize(d).map(|w| w.map(Words::split))
}

/// A size as a number of bytes or a text such as `64MiB` or `1GB`.
fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(bytes) => Ok(bytes),
        Size::Text(text) => text
            .trim()
            .parse::<bytesize::ByteSize>()
            .map(|size| size.as_u64())
            .map_err(|e| {
                serde::de::Error::custom(format!("'{text}' is not a size like 64MiB: {e}"))
            }),
    }
}

fn default_max_body() -> u64 {
    64 * 1024 * 1024
}
fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
fn health_path() -> String {
    "/health".into()
}
fn one() -> u32 {
    1
}
fn two() -> u32 {
    2
}
fn one_f64() -> f64 {
    1.0
}
fn two_seconds() -> Duration {
    Duration::from_secs(2)
}
fn ten_seconds() -> Duration {
    Duration::from_secs(10)
}
fn five_seconds() -> Duration {
    Duration::from_secs(5)
}
fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}
fn sixty_seconds() -> Duration {
    Duration::from_secs(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_GROUPS: &str = "\
listen: 127.0.0.1:0
groups:
  - name: one
    serve: --mode sync --workers 2
    max: 4
    initial: 2
    health_check: {interval: 500ms, healthy_threshold: 1}
    policy:
      target_tracking: {target: 50, period: 1s, warmup: 2s}
  - name: two
    command: [python3, -m, http.server, '{port}']
    max: 1
rules:
  - {path: /cluster1, group: one, strip_prefix: true}
  - {path: /cluster2, group: two}
";

    #[test]
    fn a_policy_file_replaces_a_groups_rule_and_limits() {
        let mut config = ClusterConfig::from_yaml(TWO_GROUPS).unwrap();
        let policy = Policy::from_yaml("min: 2\nmax: 6\nstartup: 3s\nhpa: {target: 70}\n").unwrap();
        config.set_policy("one", policy).unwrap();
        let group = config.groups[0].policy().unwrap();
        assert_eq!((group.min, group.max, group.initial()), (2, 6, 2));
        assert_eq!(group.startup, Duration::from_secs(3));
        assert_eq!(group.hpa.map(|h| h.target), Some(Some(70.0)));
        assert!(group.target_tracking.is_none());
        let unknown = config
            .set_policy(
                "three",
                Policy::from_yaml("max: 1\nhpa: {target: 70}\n").unwrap(),
            )
            .unwrap_err();
        assert!(unknown.contains("'three'"), "{unknown}");
    }

    #[test]
    fn reads_groups_rules_durations_and_policies() {
        let config = ClusterConfig::from_yaml(TWO_GROUPS).unwrap();
        let one = &config.groups[0];
        assert_eq!(one.serve, ["--mode", "sync", "--workers", "2"]);
        assert_eq!((one.min, one.max, one.initial()), (1, 4, 2));
        assert_eq!(one.health_check.interval, Duration::from_millis(500));
        assert_eq!(one.health_check.unhealthy_threshold, 2);
        let policy = one.policy().unwrap();
        assert_eq!((policy.min, policy.max, policy.initial()), (1, 4, 2));
        assert_eq!(
            policy.target_tracking.unwrap()[0].period,
            Duration::from_secs(1)
        );
        assert_eq!(
            config.groups[1].command.as_deref().unwrap()[3],
            "{port}".to_string()
        );
        assert!(config.rules[0].strip_prefix && !config.rules[1].strip_prefix);
    }

    #[test]
    fn stress_caps_of_all_replicas_add_up_to_one_service() {
        let config = ClusterConfig::from_yaml(
            "groups:
  - {name: a, max: 3}
  - {name: b, max: 2, serve: --cpu-cap 20 --memory-cap 1000}
  - {name: c, max: 1, command: 'app {port}'}
  - {name: d, max: 2}
",
        )
        .unwrap();
        let caps = config.stress_caps(10_000).unwrap();
        // b takes 2 x 20 % = 40 % and 2 x 1000 bytes; a's 3 and d's 2 replicas share the rest:
        // (100 - 40) / 5 = 12 % and (10000 - 2000) / 5 = 1600 bytes each; c runs its own command.
        assert_eq!(caps[0], ["--cpu-cap", "12", "--memory-cap", "1600"]);
        assert!(caps[1].is_empty() && caps[2].is_empty());
        assert_eq!(caps[3], caps[0]);
        // Every replica's caps, b's own included, add up to the host: a's 3 and d's 2 replicas at
        // the share given, b's 2 at what its serve line says.
        let cap = |i: usize, at: usize| caps[i][at].parse::<f64>().unwrap();
        assert_eq!(5.0 * cap(0, 1) + 2.0 * 20.0, 100.0);
        assert_eq!(5.0 * cap(0, 3) + 2.0 * 1000.0, 10_000.0);
        let greedy =
            ClusterConfig::from_yaml("groups: [{name: a, max: 5, serve: --cpu-cap 30}]\n").unwrap();
        let error = greedy.stress_caps(10_000).unwrap_err();
        assert!(error.contains("150% of the cores"), "{error}");
        let memory =
            ClusterConfig::from_yaml("groups: [{name: a, max: 5, serve: --memory-cap 3000}]\n")
                .unwrap();
        assert!(memory.stress_caps(10_000).is_err());
    }

    #[test]
    fn the_examples_read() {
        for text in [
            include_str!("../../../examples/cluster-two-groups.yaml"),
            include_str!("../../../examples/cluster-autoscaled.yaml"),
        ] {
            let config = ClusterConfig::from_yaml(text).unwrap();
            assert!(config.groups.iter().all(|g| g.initial() >= 1));
            // No fixed port: the balancer takes a free one and prints it.
            assert_eq!(config.listen.port(), 0);
        }
    }

    #[test]
    fn keys_and_serve_options_given_twice_are_refused_with_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("twice.yaml");
        for (text, line, key) in [
            (
                "groups:\n  - name: a\n    max: 2\n    serve: --workers 2 --mode sync --workers 4\n",
                "line 4",
                "--workers is given twice",
            ),
            (
                "groups:\n  - name: a\n    max: 2\n    serve: [--cpu-cap=10, --cpu-cap, '20']\n",
                "line 4",
                "--cpu-cap is given twice",
            ),
            (
                "groups:\n  - name: a\n    serve: --workers 2\n    max: 2\n    serve: --workers 4\n",
                "line 5",
                "duplicate mapping key: serve (give each key once)",
            ),
            (
                "listen: 127.0.0.1:0\ngroups: [{name: a, max: 2}]\nlisten: 127.0.0.1:1\n",
                "line 3",
                "duplicate mapping key: listen",
            ),
            (
                "groups:\n  - name: a\n    max: 2\n    health_check: {path: /a, path: /b}\n",
                "line 4",
                "duplicate mapping key: path",
            ),
        ] {
            std::fs::write(&file, text).unwrap();
            let error = ClusterConfig::from_file(&file).unwrap_err().to_string();
            assert!(
                error.starts_with(&file.display().to_string())
                    && error.contains(line)
                    && error.contains(key),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn errors_name_the_line_the_field_and_the_nearest_name() {
        let typo = ClusterConfig::from_yaml("groups:\n  - name: a\n    max: 2\n    vcpu: 1\n")
            .unwrap_err();
        assert!(
            typo.contains("vcpu") && typo.contains("did you mean `vcpus`?"),
            "{typo}"
        );
        assert!(typo.contains("line 4"), "{typo}");
        let rule = ClusterConfig::from_yaml(
            "groups: [{name: a, max: 2}]\nrules: [{path: /x, group: b}]\n",
        )
        .unwrap_err();
        assert!(rule.contains("rules[0].group names group 'b'"), "{rule}");
        let port =
            ClusterConfig::from_yaml("groups: [{name: a, max: 2, command: 'node app.js'}]\n")
                .unwrap_err();
        assert!(port.contains("{port}"), "{port}");
        let serve = ClusterConfig::from_yaml(
            "groups:\n  - name: a\n    max: 2\n    serve: --mode sync --wrkers 2\n",
        )
        .unwrap_err();
        assert!(
            serve.contains("unknown option '--wrkers' (did you mean '--workers'?)")
                && serve.contains("line 4"),
            "{serve}"
        );
        for (bad, why) in [
            (
                "--workers 0",
                "--workers '0' is not a whole number of at least 1",
            ),
            ("--mode fast", "--mode 'fast' is not async or sync"),
            ("--cpu-cap=150", "--cpu-cap '150' is not"),
            ("--memory-cap lots", "--memory-cap 'lots' is not a size"),
            ("--grace", "--grace needs a value"),
            ("--port 9000", "--port is set by the cluster"),
        ] {
            let error = ClusterConfig::from_yaml(&format!(
                "groups:\n  - name: a\n    max: 2\n    serve: {bad}\n"
            ))
            .unwrap_err();
            assert!(
                error.contains(why) && error.contains("line 4"),
                "{bad}: {error}"
            );
        }
        let slash = ClusterConfig::from_yaml("groups: [{name: ../a, max: 1}]\n").unwrap_err();
        assert!(slash.contains("group '../a': a name is letters"), "{slash}");
        let many = ClusterConfig::from_yaml("groups: [{name: a, max: 100000}]\n").unwrap_err();
        assert!(many.contains("at most 256"), "{many}");
        let limits = ClusterConfig::from_yaml("groups: [{name: a, min: 3, max: 2}]\n").unwrap_err();
        assert!(
            limits.contains("min (3) must not exceed max (2)"),
            "{limits}"
        );
    }
}
