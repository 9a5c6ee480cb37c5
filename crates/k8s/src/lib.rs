//! A sharded load test on Kubernetes: [`render`] makes the manifests (a ConfigMap holding the plan
//! and an Indexed Job whose pod `I` runs `scalelab run --shard I/N`), and [`collect`] copies each
//! shard's results out of its pod with `kubectl`, for `scalelab merge`. See docs/scale-out.md.

mod collect;

pub use collect::{CollectOptions, collect};

use std::time::SystemTime;

use serde_json::{Value, json};

/// Where pods find the plan and write results, and the port their metrics are served on.
pub const PLAN_DIR: &str = "/plan";
pub const RESULTS_DIR: &str = "/results";
pub const METRICS_PORT: u16 = 9464;
/// Most shards one Job may have (this tool's bound; Kubernetes allows 100,000 completions).
pub const MAX_PARALLELISM: u64 = 10_000;

/// Why manifests cannot be rendered or results collected.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("{field} '{value}': {why}")]
    Invalid {
        field: &'static str,
        value: String,
        why: String,
    },
    #[error("cannot write YAML: {0}")]
    Yaml(String),
    #[error("kubectl {args}: {why}")]
    Kubectl { args: String, why: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A node taint the shards tolerate: `key[=value]:Effect`.
#[derive(Debug, Clone, PartialEq)]
pub struct Toleration {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

impl std::str::FromStr for Toleration {
    type Err = K8sError;

    fn from_str(text: &str) -> Result<Self, K8sError> {
        let invalid = |why: &str| K8sError::Invalid {
            field: "--toleration",
            value: text.to_owned(),
            why: why.to_owned(),
        };
        let (pair, effect) = text.rsplit_once(':').ok_or_else(|| {
            invalid("expected key[=value]:Effect, e.g. dedicated=load:NoSchedule")
        })?;
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            return Err(invalid(
                "the effect is NoSchedule, PreferNoSchedule or NoExecute",
            ));
        }
        let (key, value) = match pair.split_once('=') {
            Some((key, value)) => (key, Some(value.to_owned())),
            None => (pair, None),
        };
        if key.is_empty() {
            return Err(invalid("the key is empty"));
        }
        Ok(Self {
            key: key.to_owned(),
            value,
            effect: effect.to_owned(),
        })
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Name of the Job (and prefix of the ConfigMap): a DNS-1123 label of at most 50 characters.
    pub name: String,
    pub namespace: String,
    pub image: String,
    /// Shards: the Job's completions and parallelism.
    pub parallelism: u64,
    /// The plan file's name and text, stored in the ConfigMap.
    pub plan_name: String,
    pub plan: String,
    /// When every shard begins the schedule.
    pub start_at: SystemTime,
    /// `--target` for every shard (else the plan's own target).
    pub target: Option<String>,
    /// Loader threads per shard (else one per CPU the pod sees).
    pub threads: Option<usize>,
    /// Requests and limits, as Kubernetes quantities.
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub node_selector: Vec<(String, String)>,
    pub tolerations: Vec<Toleration>,
    /// How long a finished shard waits for `collect` before its pod ends anyway (seconds).
    pub collect_within_seconds: u64,
}

/// The rendered manifests: `(file name, YAML)`.
#[derive(Debug, Clone)]
pub struct Manifests(pub Vec<(String, String)>);

impl Manifests {
    /// Every manifest in one multi-document YAML stream.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(|(_, yaml)| format!("---\n{yaml}"))
            .collect()
    }
}

fn invalid(field: &'static str, value: &str, why: impl Into<String>) -> K8sError {
    K8sError::Invalid {
        field,
        value: value.to_owned(),
        why: why.into(),
    }
}

fn check_name(field: &'static str, value: &str, max: usize) -> Result<(), K8sError> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            format!(
                "a Kubernetes name: lower-case letters, digits and '-', at most {max} characters"
            ),
        ))
    }
}

/// A Kubernetes quantity such as `500m`, `2`, `1.5`, `512Mi` or `2G`.
fn check_quantity(field: &'static str, value: &str) -> Result<(), K8sError> {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(number_end);
    let suffixes = ["", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"];
    if number.parse::<f64>().is_ok_and(|n| n > 0.0) && suffixes.contains(&suffix) {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            "a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi",
        ))
    }
}

/// `text` in single quotes for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl JobOptions {
    fn validate(&self) -> Result<(), K8sError> {
        check_name("--name", &self.name, 50)?;
        check_name("--namespace", &self.namespace, 63)?;
        if self.image.trim().is_empty() || self.image.contains(char::is_whitespace) {
            return Err(invalid(
                "--image",
                &self.image,
                "an image reference without spaces",
            ));
        }
        if !(1..=MAX_PARALLELISM).contains(&self.parallelism) {
            return Err(invalid(
                "--parallelism",
                &self.parallelism.to_string(),
                format!("between 1 and {MAX_PARALLELISM}"),
            ));
        }
        let key_ok = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
        if !self.plan_name.chars().all(key_ok) || self.plan_name.is_empty() {
            return Err(invalid(
                "PLAN",
                &self.plan_name,
                "a ConfigMap key: letters, digits, '-', '_' and '.'",
            ));
        }
        for (key, value) in &self.node_selector {
            if key.is_empty() || !key.chars().all(key_ok) || !value.chars().all(key_ok) {
                return Err(invalid(
                    "--node-selector",
                    &format!("{key}={value}"),
                    "key=value",
                ));
            }
        }
        if let Some(cpu) = &self.cpu {
            check_quantity("--cpu", cpu)?;
        }
        if let Some(memory) = &self.memory {
            check_quantity("--memory", memory)?;
        }
        Ok(())
    }

    /// The shard pod's shell script: run the shard, then wait (bounded) for `collect` to copy its
    /// results. A failed threshold (99) is the merge's verdict, not the shard's: the pod succeeds.
    pub fn script(&self) -> String {
        let mut run = format!(
            "scalelab run {plan} --shard \"$JOB_COMPLETION_INDEX/{n}\" --start-at {at} --out \"{RESULTS_DIR}/shard-$JOB_COMPLETION_INDEX\" --metrics-addr 0.0.0.0:{METRICS_PORT} --quiet",
            plan = shell_quote(&format!("{PLAN_DIR}/{}", self.plan_name)),
            n = self.parallelism,
            at = humantime::format_rfc3339_millis(self.start_at),
        );
        if let Some(target) = &self.target {
            run += &format!(" --target {}", shell_quote(target));
        }
        if let Some(threads) = self.threads {
            run += &format!(" --threads {threads}");
        }
        let polls = self.collect_within_seconds.div_ceil(2);
        format!(
            "{run}\ncode=$?\necho \"$code\" > {RESULTS_DIR}/done\n\
             if [ \"$code\" != 0 ] && [ \"$code\" != 99 ]; then exit \"$code\"; fi\n\
             i=0\nwhile [ ! -e {RESULTS_DIR}/collected ] && [ \"$i\" -lt {polls} ]; do sleep 2; i=$((i+1)); done\n"
        )
    }
}

/// Renders the ConfigMap and the Indexed Job of a sharded test.
pub fn render(options: &JobOptions) -> Result<Manifests, K8sError> {
    options.validate()?;
    let labels = json!({
        "app.kubernetes.io/name": "scalelab",
        "app.kubernetes.io/instance": options.name,
    });
    let config_map_name = format!("{}-plan", options.name);
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": config_map_name,
            "namespace": options.namespace,
            "labels": labels,
        },
        "data": { options.plan_name.clone(): options.plan },
    });
    let mut resources = serde_json::Map::new();
    for (key, value) in [("cpu", &options.cpu), ("memory", &options.memory)] {
        if let Some(value) = value {
            resources.insert(key.to_owned(), json!(value));
        }
    }
    let mut pod_spec = json!({
        "restartPolicy": "Never",
        "containers": [{
            "name": "shard",
            "image": options.image,
            "command": ["sh", "-c", options.script()],
            "ports": [{ "name": "metrics", "containerPort": METRICS_PORT }],
            "resources": { "requests": resources, "limits": resources },
            "volumeMounts": [
                { "name": "plan", "mountPath": PLAN_DIR, "readOnly": true },
                { "name": "results", "mountPath": RESULTS_DIR },
            ],
        }],
        "volumes": [
            { "name": "plan", "configMap": { "name": config_map_name } },
            { "name": "results", "emptyDir": {} },
        ],
    });
    if !options.node_selector.is_empty() {
        let selector = options
            .node_selector
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        pod_spec["nodeSelector"] = Value::Object(selector);
    }
    if !options.tolerations.is_empty() {
        let tolerations = options
            .tolerations
            .iter()
            .map(|t| match &t.value {
                Some(value) => {
                    json!({"key": t.key, "operator": "Equal", "value": value, "effect": t.effect})
                }
                None => json!({"key": t.key, "operator": "Exists", "effect": t.effect}),
            })
            .collect();
        pod_spec["tolerations"] = Value::Array(tolerations);
    }
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": options.name,
            "namespace": options.namespace,
            "labels": labels,
        },
        "spec": {
            "completionMode": "Indexed",
            "completions": options.parallelism,
            "parallelism": options.parallelism,
            // A shard retried later would begin behind the others: it fails instead.
            "backoffLimit": 0,
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": METRICS_PORT.to_string(),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": pod_spec,
            },
        },
    });
    let yaml =
        |value: &Value| serde_saphyr::to_string(value).map_err(|e| K8sError::Yaml(e.to_string()));
    Ok(Manifests(vec![
        ("configmap.yaml".into(), yaml(&config_map)?),
        ("job.yaml".into(), yaml(&job)?),
    ]))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn options() -> JobOptions {
        JobOptions {
            name: "shop-load".into(),
            namespace: "load".into(),
            image: "registry.example.com/scalelab:0.1".into(),
            parallelism: 4,
            plan_name: "plan.yaml".into(),
            plan: "vus: 1\nduration: 1s\n".into(),
            // 1_800_000_000 s is 2027-01-15T08:00:00Z.
            start_at: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            target: Some("http://it's.internal".into()),
            threads: None,
            cpu: Some("500m".into()),
            memory: Some("1Gi".into()),
            node_selector: vec![("pool".into(), "load".into())],
            tolerations: vec!["spot:NoExecute".parse().unwrap()],
            collect_within_seconds: 60,
        }
    }

    fn job(options: &JobOptions) -> Value {
        let manifests = render(options).unwrap();
        serde_saphyr::from_str(&manifests.0[1].1).unwrap()
    }

    #[test]
    fn the_job_is_indexed_with_one_pod_per_shard() {
        let job = job(&options());
        let spec = &job["spec"];
        assert_eq!(spec["completionMode"], "Indexed");
        assert_eq!(spec["completions"], 4);
        assert_eq!(spec["parallelism"], 4);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(pod["nodeSelector"]["pool"], "load");
        assert_eq!(pod["tolerations"][0]["operator"], "Exists");
        let container = &pod["containers"][0];
        assert_eq!(container["resources"]["limits"]["cpu"], "500m");
        let annotations = &spec["template"]["metadata"]["annotations"];
        assert_eq!(annotations["prometheus.io/port"], "9464");
        let script = container["command"][2].as_str().unwrap();
        assert!(
            script.contains(
                r#"--shard "$JOB_COMPLETION_INDEX/4" --start-at 2027-01-15T08:00:00.000Z"#
            ),
            "{script}"
        );
        // The target's quote is escaped for sh; 60 s of waiting is 30 polls of 2 s.
        assert!(
            script.contains(r#"--target 'http://it'\''s.internal'"#),
            "{script}"
        );
        assert!(script.contains(r#"-lt 30 ]"#), "{script}");
        let config_map: Value =
            serde_saphyr::from_str(&render(&options()).unwrap().0[0].1).unwrap();
        assert_eq!(config_map["data"]["plan.yaml"], "vus: 1\nduration: 1s\n");
        assert_eq!(pod["volumes"][0]["configMap"]["name"], "shop-load-plan");
    }

    #[test]
    fn bad_options_name_the_flag() {
        type Spoil = fn(&mut JobOptions);
        let cases: [(Spoil, &str); 5] = [
            (|o| o.name = "Shop".into(), "--name"),
            (|o| o.namespace = "-x".into(), "--namespace"),
            (|o| o.parallelism = 0, "--parallelism"),
            (|o| o.cpu = Some("two".into()), "--cpu"),
            (|o| o.memory = Some("1GB".into()), "--memory"),
        ];
        for (spoil, flag) in cases {
            let mut options = options();
            spoil(&mut options);
            let error = render(&options).unwrap_err().to_string();
            assert!(error.starts_with(flag), "{error}");
        }
        assert!("dedicated=load:Sometimes".parse::<Toleration>().is_err());
        assert!("dedicated=load".parse::<Toleration>().is_err());
        assert_eq!(
            "dedicated=load:NoSchedule"
                .parse::<Toleration>()
                .unwrap()
                .value
                .as_deref(),
            Some("load")
        );
    }
}
