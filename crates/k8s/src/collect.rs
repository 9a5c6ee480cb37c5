//! `scalelab k8s collect`: copies every shard's results out of its pod with `kubectl` (which must be
//! on PATH and pointed at the cluster), then tells the pod it may end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{K8sError, RESULTS_DIR};

/// Which Job to collect from, and where to.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub name: String,
    pub namespace: String,
    pub parallelism: u64,
    /// Shard `I`'s results go to `out/shard-I`.
    pub out: PathBuf,
    /// How long to wait for the shards to finish.
    pub timeout: Duration,
}

fn kubectl(args: &[&str]) -> Result<String, K8sError> {
    let error = |why: String| K8sError::Kubectl {
        args: args.join(" "),
        why,
    };
    let output = Command::new("kubectl")
        .args(args)
        .output()
        .map_err(|e| error(format!("cannot run kubectl: {e}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(error(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

/// Waits for every shard to write its results, copies them to `out/shard-I` and releases the
/// pods; returns the shard directories. Polls every 2 s until `timeout`.
pub fn collect(options: &CollectOptions) -> Result<Vec<PathBuf>, K8sError> {
    let ns = options.namespace.as_str();
    let deadline = Instant::now() + options.timeout;
    let mut dirs = Vec::new();
    for index in 0..options.parallelism {
        let selector = format!(
            "job-name={},batch.kubernetes.io/job-completion-index={index}",
            options.name
        );
        let done = format!("{RESULTS_DIR}/done");
        let pod = loop {
            let pod = kubectl(&[
                "get",
                "pods",
                "-n",
                ns,
                "-l",
                &selector,
                "--field-selector=status.phase=Running",
                "-o",
                "jsonpath={.items[0].metadata.name}",
            ])
            .unwrap_or_default();
            if !pod.is_empty()
                && kubectl(&["exec", "-n", ns, &pod, "--", "test", "-e", &done]).is_ok()
            {
                break pod;
            }
            if Instant::now() >= deadline {
                return Err(K8sError::Kubectl {
                    args: format!("get pods -l {selector}"),
                    why: format!(
                        "shard {index} has not finished (no running pod with {done}) within {:?}",
                        options.timeout
                    ),
                });
            }
            std::thread::sleep(Duration::from_secs(2));
        };
        let dir = options.out.join(format!("shard-{index}"));
        copy(ns, &pod, &format!("{RESULTS_DIR}/shard-{index}"), &dir)?;
        kubectl(&[
            "exec",
            "-n",
            ns,
            &pod,
            "--",
            "touch",
            &format!("{RESULTS_DIR}/collected"),
        ])?;
        dirs.push(dir);
    }
    Ok(dirs)
}

fn copy(ns: &str, pod: &str, from: &str, to: &Path) -> Result<(), K8sError> {
    std::fs::create_dir_all(to.parent().unwrap_or(Path::new(".")))?;
    let to = to.to_string_lossy();
    kubectl(&["cp", "-n", ns, &format!("{pod}:{from}"), &to]).map(|_| ())
}
