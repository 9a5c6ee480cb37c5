//! Runs k6 test scripts unchanged: a script's `options` load through the k6 options loader (so
//! every executor and threshold behaves as for a k6 options file), and each VU runs the script in
//! its own QuickJS context, as a coroutine on a loader thread, its requests sent and measured by
//! the load engine.

mod imports;
mod metrics;
mod native;
mod vu;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use scalelab_load::engine::CompiledPlan;
use scalelab_load::engine::program::{self, Program};
use scalelab_load::plan::{Executor, Plan, PlanError, load_script_options};
use scalelab_metrics::CustomKind;

pub use vu::STACK_SIZE;

/// Why a script cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: import '{import}' is not supported: {why}")]
    Unsupported {
        file: String,
        line: usize,
        import: String,
        why: String,
    },
    /// An exception in init code or `setup()`/`teardown()`, with its position.
    #[error("{0}")]
    Exception(String),
    #[error(transparent)]
    Options(#[from] PlanError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Thread(String),
}

/// A loaded script: its plan (from `options`) and the code every VU runs.
#[derive(Debug)]
pub struct Script {
    pub plan: Plan,
    code: Arc<Code>,
}

/// What every VU's thread shares.
#[derive(Debug)]
pub(crate) struct Code {
    /// The main module's name (its path).
    pub main: String,
    pub sources: imports::Sources,
    /// `__ENV`: the process environment, then `-e KEY=VALUE`.
    pub env: Vec<(String, String)>,
    /// The custom metrics the script defines (`k6/metrics`).
    pub metrics: metrics::Registry,
    /// Per scenario (plan order): its name, executor kind, the function it runs and its `env`;
    /// set once the options are loaded.
    pub scenarios: OnceLock<Vec<ScenarioCode>>,
    /// k6's `discardResponseBodies`, set once the options are loaded.
    pub discard_bodies: std::sync::atomic::AtomicBool,
    /// What `setup()` returned, as JSON.
    pub setup_data: Mutex<Option<String>>,
    pub exceptions: Mutex<Exceptions>,
    /// Why the run must stop (an init exception, `test.abort()`); the first reason is kept.
    pub fatal: Mutex<Option<Fatal>>,
    /// SharedArray contents by name, as JSON.
    pub shared: Mutex<HashMap<String, Arc<str>>>,
    /// Files `open()` read, by path.
    pub files: Mutex<HashMap<PathBuf, Arc<[u8]>>>,
}

#[derive(Debug, Clone)]
pub(crate) struct ScenarioCode {
    pub name: String,
    pub executor: &'static str,
    pub exec: String,
    pub env: Vec<(String, String)>,
}

/// Why a script stopped its run: its message, and whether the script asked for it with
/// `test.abort()` (k6's exit code 108) rather than failed (an exception in a VU's init code, 107).
#[derive(Debug, Clone, PartialEq)]
pub struct Fatal {
    pub message: String,
    pub aborted: bool,
}

impl Code {
    /// Records why the run must stop, unless a reason is already recorded.
    pub(crate) fn stop(&self, message: &str, aborted: bool) {
        self.fatal.lock().expect("lock").get_or_insert(Fatal {
            message: message.to_owned(),
            aborted,
        });
    }
}

/// Uncaught exceptions in iterations: counted, the first kept with its position.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Exceptions {
    pub count: u64,
    pub first: Option<String>,
}

impl Script {
    /// Loads the script at `path`: reads it and its local modules (refusing unsupported imports),
    /// runs its init code once to read `options` and check its functions exist, and loads the
    /// options. `env` is `__ENV` (the process environment, then `-e KEY=VALUE`, later wins).
    pub fn load(path: &Path, env: Vec<(String, String)>) -> Result<Self, ScriptError> {
        let (main, sources) = imports::read_all(path)?;
        let code = Arc::new(Code {
            main,
            sources,
            env,
            metrics: metrics::Registry::default(),
            scenarios: OnceLock::new(),
            discard_bodies: Default::default(),
            setup_data: Mutex::new(None),
            exceptions: Mutex::default(),
            fatal: Mutex::new(None),
            shared: Mutex::default(),
            files: Mutex::default(),
        });
        let init = vu::inspect(&code)?;
        let origin = format!("{} (options, as JSON)", code.main);
        let plan = load_script_options(&init.options, &origin)?;
        let mut scenarios = Vec::new();
        for scenario in &plan.scenarios {
            let (exec, env) = init
                .scenarios
                .iter()
                .find(|s| s.name == scenario.name)
                .map(|s| (s.exec.clone(), s.env.clone()))
                .unwrap_or_default();
            let exec = exec.unwrap_or_else(|| "default".to_owned());
            if !init.functions.contains(&exec) {
                return Err(ScriptError::Invalid(format!(
                    "{}: scenario '{}' runs '{exec}', which the script does not export as a function",
                    code.main, scenario.name
                )));
            }
            if matches!(scenario.executor, Executor::Phases { .. }) {
                return Err(ScriptError::Invalid(format!(
                    "{}: scenario '{}': Artillery phases are not a k6 executor",
                    code.main, scenario.name
                )));
            }
            scenarios.push(ScenarioCode {
                name: scenario.name.clone(),
                executor: scenario.executor.kind(),
                exec,
                env,
            });
        }
        code.scenarios
            .set(scenarios)
            .expect("scenarios are set once, here");
        code.discard_bodies.store(
            plan.defaults.discard_response_bodies,
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut plan = plan;
        plan.warnings.extend(init.warnings);
        Ok(Self { plan, code })
    }

    /// The plan compiled to run this script's code against `base`.
    pub fn compile(&self, base: &str) -> Result<CompiledPlan, scalelab_load::engine::CompileError> {
        CompiledPlan::with_program(&self.plan, base, Arc::new(Runner(self.code.clone())))
    }

    /// Runs `setup()` if the script exports it (its requests are sent with the plan's client
    /// settings, not recorded); what it returns is passed to every iteration.
    pub async fn setup(&self, plan: &CompiledPlan) -> Result<(), ScriptError> {
        self.once(plan, vu::Role::Setup).await
    }

    /// Runs `teardown(data)` if the script exports it.
    pub async fn teardown(&self, plan: &CompiledPlan) -> Result<(), ScriptError> {
        self.once(plan, vu::Role::Teardown).await
    }

    async fn once(&self, plan: &CompiledPlan, role: vu::Role) -> Result<(), ScriptError> {
        let mut code = vu::VuCode::new(self.code.clone(), 0, role)
            .map_err(|e| ScriptError::Invalid(format!("cannot make a VU's stack: {e}")))?;
        scalelab_load::engine::program::serve_unrecorded(plan, &mut code)
            .await
            .map_err(ScriptError::Exception)
    }

    /// Uncaught exceptions in iterations so far.
    pub fn exceptions(&self) -> Exceptions {
        self.code.exceptions.lock().expect("lock").clone()
    }

    /// Why the run had to stop, if it had to: an exception in a VU's init code, `test.abort()`.
    pub fn fatal(&self) -> Option<Fatal> {
        self.code.fatal.lock().expect("lock").clone()
    }

    /// Refuses a run whose VUs this process cannot map: each VU's stack is two memory mappings
    /// (the stack and its guard page), and the kernel caps mappings per process.
    pub fn check_stacks(&self) -> Result<(), ScriptError> {
        let vus: u64 = self
            .plan
            .scenarios
            .iter()
            .map(|s| s.executor.max_vus().unwrap_or(0))
            .sum();
        let limit = map_limit();
        if vus.saturating_mul(2).saturating_add(RESERVED_MAPS) > limit {
            return Err(ScriptError::Invalid(format!(
                "the script's scenarios need up to {vus} VUs, each with its own stack (two memory \
                 mappings), and this process may map about {limit} areas \
                 (/proc/sys/vm/max_map_count); lower the VUs or raise the limit"
            )));
        }
        Ok(())
    }
}

/// Makes VUs' code for the load engine.
#[derive(Debug)]
struct Runner(Arc<Code>);

impl Program for Runner {
    fn vu(&self, vu: u64) -> std::io::Result<Box<dyn program::Code>> {
        Ok(Box::new(vu::VuCode::new(self.0.clone(), vu, vu::Role::Vu)?))
    }

    fn custom_metrics(&self) -> Vec<(String, CustomKind)> {
        self.0.metrics.all()
    }
}

/// Memory mappings the process needs besides its VUs' stacks: its code, heap and threads.
const RESERVED_MAPS: u64 = 4_096;

/// Memory mappings this process may make (`vm.max_map_count`).
fn map_limit() -> u64 {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u64::MAX)
}
