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

/// Whether a failed `kubectl exec POD -- test -e FILE` only says the file is not there: `test`
/// exits 1, which kubectl reports as such (or not at all).
fn not_yet(why: &str) -> bool {
    why.is_empty() || why == "command terminated with exit code 1"
}

/// Waits for every shard to write its results, copies them to `out/shard-I` and releases the
/// pods; returns the shard directories. Polls every 2 s until `timeout` (for all shards together).
/// `progress` hears what it waits for and copies, and what kubectl says while it waits. A failed
/// `kubectl get pods` (no cluster, no access) ends the wait at once with kubectl's message; a
/// failed check of a running pod is shown and retried (its container may still be starting).
pub fn collect(
    options: &CollectOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<PathBuf>, K8sError> {
    let ns = options.namespace.as_str();
    let kubectl = |args: &[&str]| run(&options.kubectl, args);
    let deadline = Instant::now() + options.timeout;
    let n = options.parallelism;
    let done = format!("{RESULTS_DIR}/done");
    let mut dirs = Vec::new();
    for index in 0..n {
        let selector = format!(
            "job-name={},batch.kubernetes.io/job-completion-index={index}",
            options.name
        );
        let mut said = String::new();
        let mut say = |line: String| {
            if line != said {
                progress(&line);
                said = line;
            }
        };
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
            ])?;
            if pod.is_empty() {
                say(format!(
                    "shard {index} of {n}: waiting for its pod to run ({selector})"
                ));
            } else {
                match kubectl(&["exec", "-n", ns, &pod, "--", "test", "-e", &done]) {
                    Ok(_) => break pod,
                    // `test` answered no, and kubectl had nothing to say: the run goes on.
                    Err(K8sError::Kubectl { why, .. }) if not_yet(&why) => say(format!(
                        "shard {index} of {n}: pod {pod} running, waiting for {done}"
                    )),
                    Err(error) => say(format!("shard {index} of {n}: {error}")),
                }
            }
            if Instant::now() >= deadline {
                return Err(K8sError::Kubectl {
                    args: format!("get pods -l {selector}"),
                    why: format!(
                        "shard {index} has not finished (no running pod with {done}) within {} \
                         (--timeout)",
                        humantime::format_duration(options.timeout)
                    ),
                });
            }
            std::thread::sleep(Duration::from_secs(2));
        };
        let dir = options.out.join(format!("shard-{index}"));
        std::fs::create_dir_all(&options.out)?;
        let from = format!("{pod}:{RESULTS_DIR}/shard-{index}");
        progress(&format!(
            "shard {index} of {n}: copying {from} to {}",
            dir.display()
        ));
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
        progress(&format!("shard {index} of {n}: copied; pod {pod} released"));
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

    /// `script` as an executable `kubectl` in `dir`.
    fn kubectl(dir: &Path, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("kubectl");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn options(dir: &Path, parallelism: u64, timeout: Duration) -> CollectOptions {
        CollectOptions {
            name: "shop".into(),
            namespace: "load".into(),
            parallelism,
            out: dir.join("results"),
            timeout,
            kubectl: dir.join("kubectl"),
        }
    }

    /// Collects with `options`, returning the result and every progress line.
    fn collect_heard(options: &CollectOptions) -> (Result<Vec<PathBuf>, K8sError>, Vec<String>) {
        let mut heard = Vec::new();
        let result = collect(options, &mut |line| heard.push(line.to_owned()));
        (result, heard)
    }

    #[test]
    fn copies_each_shard_and_releases_its_pod() {
        let dir = tempfile::tempdir().unwrap();
        kubectl(dir.path(), FAKE_KUBECTL);
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
        let options = options(dir.path(), 2, Duration::from_secs(5));
        let out = options.out.clone();
        let (dirs, heard) = collect_heard(&options);
        assert_eq!(dirs.unwrap(), [out.join("shard-0"), out.join("shard-1")]);
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
        assert_eq!(
            heard,
            [
                format!(
                    "shard 0 of 2: copying shard-pod-0:/results/shard-0 to {}",
                    out.join("shard-0").display()
                ),
                "shard 0 of 2: copied; pod shard-pod-0 released".into(),
                format!(
                    "shard 1 of 2: copying shard-pod-1:/results/shard-1 to {}",
                    out.join("shard-1").display()
                ),
                "shard 1 of 2: copied; pod shard-pod-1 released".into(),
            ]
        );
    }

    #[test]
    fn a_shard_that_never_finishes_times_out_with_its_index_saying_what_it_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        kubectl(dir.path(), FAKE_KUBECTL);
        std::fs::create_dir_all(dir.path().join("pods/shard-pod-0")).unwrap();
        let (result, heard) = collect_heard(&options(dir.path(), 1, Duration::ZERO));
        let error = result.unwrap_err().to_string();
        assert!(
            error.contains("shard 0 has not finished") && error.contains("within 0s (--timeout)"),
            "{error}"
        );
        assert_eq!(
            heard,
            ["shard 0 of 1: pod shard-pod-0 running, waiting for /results/done"]
        );
    }

    #[test]
    fn kubectl_that_cannot_reach_the_cluster_ends_the_wait_with_its_message() {
        let dir = tempfile::tempdir().unwrap();
        kubectl(
            dir.path(),
            "#!/bin/sh\necho 'error: You must be logged in to the server (Unauthorized)' >&2\nexit 1\n",
        );
        // A long wait that must not be waited: kubectl's error is final.
        let (result, heard) = collect_heard(&options(dir.path(), 1, Duration::from_secs(3600)));
        let error = result.unwrap_err().to_string();
        assert!(
            error.starts_with("kubectl get pods -n load")
                && error.ends_with("error: You must be logged in to the server (Unauthorized)"),
            "{error}"
        );
        assert!(heard.is_empty(), "{heard:?}");
    }

    #[test]
    fn what_kubectl_says_about_a_running_pod_is_shown_while_waiting() {
        let dir = tempfile::tempdir().unwrap();
        kubectl(
            dir.path(),
            "#!/bin/sh\ncase \"$1\" in\n  get) echo pod-0 ;;\n  exec) echo 'error: unable to upgrade connection: container not found (\"scalelab\")' >&2; exit 1 ;;\nesac\n",
        );
        let (result, heard) = collect_heard(&options(dir.path(), 1, Duration::ZERO));
        assert!(result.is_err());
        assert_eq!(
            heard,
            [
                "shard 0 of 1: kubectl exec -n load pod-0 -- test -e /results/done: error: unable \
                 to upgrade connection: container not found (\"scalelab\")"
            ]
        );
    }
}
