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
    /// The kubectl program (`kubectl`, found on PATH, unless given).
    pub kubectl: PathBuf,
}

fn run(kubectl: &Path, args: &[&str]) -> Result<String, K8sError> {
    let error = |why: String| K8sError::Kubectl {
        args: args.join(" "),
        why,
    };
    let output = Command::new(kubectl)
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
    let kubectl = |args: &[&str]| run(&options.kubectl, args);
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
        std::fs::create_dir_all(&options.out)?;
        let from = format!("{pod}:{RESULTS_DIR}/shard-{index}");
        kubectl(&["cp", "-n", ns, &from, &dir.to_string_lossy()])?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for kubectl: each pod is a folder of `pods`, named `shard-pod-I` after the
    /// completion index in the label selector; every call is logged.
    const FAKE_KUBECTL: &str = r#"#!/bin/sh
pods="$(dirname "$0")/pods"
echo "$*" >> "$(dirname "$0")/calls"
case "$1" in
  get) index=$(echo "$*" | sed -n 's/.*job-completion-index=\([0-9]*\).*/\1/p'); echo "shard-pod-$index" ;;
  exec) pod=$4; shift 5; [ "$1" = test ] && exec test -e "$pods/$pod${3#/results}"; [ "$1" = touch ] && exec touch "$pods/$pod${2#/results}" ;;
  cp) pod=${4%%:*}; path=${4#*:}; exec cp -r "$pods/$pod${path#/results}" "$5" ;;
esac
"#;

    #[test]
    fn copies_each_shard_and_releases_its_pod() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let kubectl = dir.path().join("kubectl");
        std::fs::write(&kubectl, FAKE_KUBECTL).unwrap();
        std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
        for index in 0..2 {
            let pod = dir.path().join(format!("pods/shard-pod-{index}"));
            std::fs::create_dir_all(pod.join(format!("shard-{index}"))).unwrap();
            std::fs::write(
                pod.join(format!("shard-{index}/summary.json")),
                index.to_string(),
            )
            .unwrap();
            std::fs::write(pod.join("done"), "0").unwrap();
        }
        let out = dir.path().join("results");
        let dirs = collect(&CollectOptions {
            name: "shop".into(),
            namespace: "load".into(),
            parallelism: 2,
            out: out.clone(),
            timeout: Duration::from_secs(5),
            kubectl,
        })
        .unwrap();
        assert_eq!(dirs, [out.join("shard-0"), out.join("shard-1")]);
        for index in 0..2 {
            let copied = std::fs::read_to_string(out.join(format!("shard-{index}/summary.json")));
            assert_eq!(copied.unwrap(), index.to_string());
            assert!(
                dir.path()
                    .join(format!("pods/shard-pod-{index}/collected"))
                    .exists()
            );
        }
        let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
        assert!(
            calls.contains(
                "get pods -n load -l job-name=shop,batch.kubernetes.io/job-completion-index=1"
            ),
            "{calls}"
        );
    }

    #[test]
    fn a_shard_that_never_finishes_times_out_with_its_index() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let kubectl = dir.path().join("kubectl");
        std::fs::write(&kubectl, FAKE_KUBECTL).unwrap();
        std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(dir.path().join("pods/shard-pod-0")).unwrap();
        let error = collect(&CollectOptions {
            name: "shop".into(),
            namespace: "load".into(),
            parallelism: 1,
            out: dir.path().join("results"),
            timeout: Duration::ZERO,
            kubectl,
        })
        .unwrap_err();
        assert!(
            error.to_string().contains("shard 0 has not finished"),
            "{error}"
        );
    }
}
