//! A VU's code: a coroutine with its own QuickJS runtime and context, the script's init code run in
//! it, then one iteration per command from its task. Also the init run that reads a script's
//! `options`.

use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use rquickjs::loader::{Loader, Resolver};
use rquickjs::{Context, Ctx, Error, Function, Module, Object, Promise, Runtime, Value};
use scalelab_load::engine::program::{self, Call, Command};

use crate::native::{self, Port};
use crate::{Code, ScriptError, imports};

/// Stack of a VU's coroutine: QuickJS runs on it, and allocates its objects on the heap.
pub const STACK_SIZE: usize = 512 * 1024;
/// The deepest JavaScript recursion may go on that stack before QuickJS throws a `RangeError`.
const JS_STACK: usize = 384 * 1024;

/// What a thread runs the script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Vu,
    Setup,
    Teardown,
}

/// What the init code of a script tells about it.
#[derive(Debug)]
pub struct Inspection {
    /// `options`, as pretty-printed JSON (`{}` when the script exports none).
    pub options: String,
    pub scenarios: Vec<ScenarioOptions>,
    /// Exported function names.
    pub functions: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub struct ScenarioOptions {
    pub name: String,
    pub exec: Option<String>,
    pub env: Vec<(String, String)>,
}

/// Runs the init code once, on this thread, to read `options` and the exported functions.
pub fn inspect(code: &Arc<Code>) -> Result<Inspection, ScriptError> {
    let port = Rc::new(Port::new(code.clone(), 0, None));
    let (_runtime, context) = runtime(code, port.clone()).map_err(ScriptError::Thread)?;
    context.with(|ctx| {
        let exports = init(&ctx, code).map_err(ScriptError::Exception)?;
        let mut functions = Vec::new();
        for key in exports.keys::<String>() {
            let key = key.map_err(|e| ScriptError::Thread(e.to_string()))?;
            if exports.get::<_, Value>(&key).is_ok_and(|v| v.is_function()) {
                functions.push(key);
            }
        }
        let options: Value = exports
            .get("options")
            .unwrap_or(Value::new_undefined(ctx.clone()));
        let json = if options.is_undefined() {
            "{}".to_owned()
        } else {
            let text: Option<String> = ctx
                .globals()
                .get::<_, Object>("JSON")
                .and_then(|json| json.get::<_, Function>("stringify"))
                .and_then(|stringify| stringify.call((options, Value::new_null(ctx.clone()), 2)))
                .map_err(|e| ScriptError::Exception(describe(&ctx, e)))?;
            text.unwrap_or_else(|| "{}".to_owned())
        };
        let parsed: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| ScriptError::Invalid(format!("{}: options: {e}", code.main)))?;
        let scenarios = parsed
            .get("scenarios")
            .and_then(|s| s.as_object())
            .map(|scenarios| {
                scenarios
                    .iter()
                    .map(|(name, s)| ScenarioOptions {
                        name: name.clone(),
                        exec: s.get("exec").and_then(|e| e.as_str()).map(str::to_owned),
                        env: s
                            .get("env")
                            .and_then(|e| e.as_object())
                            .map(|env| {
                                env.iter()
                                    .map(|(k, v)| {
                                        let v =
                                            v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                                        (k.clone(), v)
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut warnings = Vec::new();
        if functions.iter().any(|f| f == "handleSummary") {
            warnings.push(format!(
                "{}: handleSummary() is not called: scalelab prints its own summary and writes \
                 summary.json with --out",
                code.main
            ));
        }
        Ok(Inspection {
            options: json,
            scenarios,
            functions,
            warnings,
        })
    })
}

/// What resumes a VU's code: its task's answer, or the end of the run.
#[derive(Debug)]
pub enum Input {
    Command(Command),
    /// The task is gone: the code must unwind (its calls throw, its JavaScript is interrupted).
    End,
}

/// How often a VU's code may be resumed to unwind it when it is dropped mid-iteration; each
/// resume ends at the script's next call or QuickJS's next interrupt check, which both fail.
const END_RESUMES: usize = 1_000;

/// A VU's code: a coroutine on its own stack, running on the loader thread that resumes it.
pub struct VuCode(Option<Coroutine<Input, Call, Call, DefaultStack>>);

impl VuCode {
    /// VU `vu`'s code (VU 0 runs `setup()` or `teardown()`); nothing runs until it is resumed.
    pub fn new(code: Arc<Code>, vu: u64, role: Role) -> std::io::Result<Self> {
        let stack = DefaultStack::new(STACK_SIZE)?;
        Ok(Self(Some(Coroutine::with_stack(
            stack,
            move |yielder: &Yielder<Input, Call>, first: Input| match first {
                Input::Command(_) => run(&code, vu, role, yielder),
                Input::End => Call::Done,
            },
        ))))
    }
}

impl program::Code for VuCode {
    fn resume(&mut self, command: Command) -> Call {
        let Some(coroutine) = self.0.as_mut().filter(|c| !c.done()) else {
            return Call::Abort("the VU's code has ended".to_owned());
        };
        match coroutine.resume(Input::Command(command)) {
            CoroutineResult::Yield(call) | CoroutineResult::Return(call) => call,
        }
    }
}

impl Drop for VuCode {
    /// Ends a code suspended mid-iteration (the run ended while it waited) by resuming it until
    /// it returns, so it unwinds its own stack; a coroutine dropped suspended would be unwound by
    /// a panic through QuickJS's C frames, so one that will not end is leaked instead.
    fn drop(&mut self) {
        let Some(mut coroutine) = self.0.take() else {
            return;
        };
        for _ in 0..END_RESUMES {
            if !coroutine.started() || coroutine.done() {
                return;
            }
            let _ = coroutine.resume(Input::End);
        }
        if coroutine.started() && !coroutine.done() {
            std::mem::forget(coroutine);
        }
    }
}

/// The coroutine's body: init code, then one iteration per command until the run ends; returns
/// its last call (`Abort` when init failed).
fn run(code: &Arc<Code>, vu: u64, role: Role, yielder: &Yielder<Input, Call>) -> Call {
    let port = Rc::new(Port::new(code.clone(), vu, Some(yielder)));
    let last = iterate(code, vu, role, &port);
    // The runtime is gone, and with it every clone of the port its functions held: the yielder
    // the port points to is not used after this body returns.
    assert_eq!(
        Rc::strong_count(&port),
        1,
        "a VU's port outlived its runtime"
    );
    last
}

fn iterate(code: &Arc<Code>, vu: u64, role: Role, port: &Rc<Port>) -> Call {
    let (_runtime, context) = match runtime(code, port.clone()) {
        Ok(pair) => pair,
        Err(error) => return Call::Abort(error),
    };
    context.with(|ctx| {
        let exports = match init(&ctx, code) {
            Ok(exports) => exports,
            Err(error) => {
                let error = format!("VU {vu}: init: {error}");
                code.stop(&error, false);
                return Call::Abort(error);
            }
        };
        port.init.set(false);
        let data = setup_data(&ctx, code);
        // The function each scenario runs (for setup and teardown, the one function), looked up once.
        let scenarios = code.scenarios.get().map_or(&[][..], Vec::as_slice);
        let functions: Vec<Option<Function>> = match role {
            Role::Vu => scenarios
                .iter()
                .map(|s| exports.get(s.exec.as_str()).ok())
                .collect(),
            Role::Setup => vec![exports.get("setup").ok()],
            Role::Teardown => vec![exports.get("teardown").ok()],
        };
        let globals = ctx.globals();
        let mut next = port.suspend(Call::Ready);
        while let Some(Command::Iterate {
            scenario,
            iteration,
        }) = next
        {
            let _ = globals.set("__ITER", iteration);
            port.scenario.set(scenario);
            if let Some(s) = scenarios
                .get(scenario)
                .filter(|s| role == Role::Vu && !s.env.is_empty())
            {
                let _ = set_env(&ctx, &code.env, &s.env);
            }
            let function = match role {
                Role::Vu => functions.get(scenario),
                Role::Setup | Role::Teardown => functions.first(),
            }
            .cloned()
            .flatten();
            let result = match function {
                Some(function) => call(&ctx, &function, data.clone()),
                None => Ok(Value::new_undefined(ctx.clone())),
            };
            match (role, result) {
                (_, Err(_)) if port.ended.get() => return Call::Done,
                (Role::Vu, Err(error)) => {
                    let error = format!("VU {vu}: uncaught exception: {error}");
                    let mut exceptions = code.exceptions.lock().expect("lock");
                    exceptions.count += 1;
                    if exceptions.first.is_none() {
                        // Not eprintln!, which panics when stderr is a closed pipe.
                        let _ = writeln!(std::io::stderr().lock(), "{error}");
                        exceptions.first = Some(error);
                    }
                }
                (Role::Setup | Role::Teardown, Err(error)) => {
                    let what = if role == Role::Setup {
                        "setup"
                    } else {
                        "teardown"
                    };
                    return Call::Abort(format!("{what}(): {error}"));
                }
                (Role::Setup, Ok(value)) => {
                    let json = ctx.json_stringify(value).ok().flatten();
                    *code.setup_data.lock().expect("lock") = json.and_then(|j| j.to_string().ok());
                }
                (Role::Vu | Role::Teardown, Ok(_)) => {}
            }
            next = port.suspend(Call::Done);
        }
        Call::Done
    })
}

/// A fresh runtime and context for one VU, its module loader and k6 globals installed.
fn runtime(code: &Arc<Code>, port: Rc<Port>) -> Result<(Runtime, Context), String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    runtime.set_max_stack_size(JS_STACK);
    let p = port.clone();
    runtime.set_interrupt_handler(Some(Box::new(move || p.interrupt())));
    runtime.set_loader(Modules(code.clone()), Modules(code.clone()));
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context
        .with(|ctx| {
            native::install(&ctx, port)?;
            set_env(&ctx, &code.env, &[])
        })
        .map_err(|e| e.to_string())?;
    Ok((runtime, context))
}

/// Sets `__ENV`: `base`, then `extra` (a scenario's `env`) over it.
fn set_env<'js>(
    ctx: &Ctx<'js>,
    base: &[(String, String)],
    extra: &[(String, String)],
) -> rquickjs::Result<()> {
    let env = Object::new(ctx.clone())?;
    for (key, value) in base.iter().chain(extra) {
        env.set(key.as_str(), value.as_str())?;
    }
    ctx.globals().set("__ENV", env)
}

/// Runs the main module's init code; its exports.
fn init<'js>(ctx: &Ctx<'js>, code: &Code) -> Result<Object<'js>, String> {
    let source = &code.sources[&code.main];
    let run = || -> rquickjs::Result<Object<'js>> {
        let (module, promise) =
            Module::declare(ctx.clone(), code.main.as_str(), source.as_str())?.eval()?;
        promise.finish::<()>()?;
        module.namespace()
    };
    run().map_err(|e| describe(ctx, e))
}

/// What `setup()` returned, parsed in this VU's context (each VU gets its own copy, as in k6).
fn setup_data<'js>(ctx: &Ctx<'js>, code: &Code) -> Value<'js> {
    let json = code.setup_data.lock().expect("lock").clone();
    json.and_then(|json| ctx.json_parse(json).ok())
        .unwrap_or_else(|| Value::new_undefined(ctx.clone()))
}

/// Calls `function(data)`, waiting out the promise an async function returns.
fn call<'js>(
    ctx: &Ctx<'js>,
    function: &Function<'js>,
    data: Value<'js>,
) -> Result<Value<'js>, String> {
    let run = || -> rquickjs::Result<Value<'js>> {
        let value: Value = function.call((data,))?;
        match value.as_promise() {
            Some(promise) => Promise::finish::<Value>(promise),
            None => Ok(value),
        }
    };
    run().map_err(|e| describe(ctx, e))
}

/// An error as k6 shows it: the message, then where it was thrown.
pub(crate) fn describe(ctx: &Ctx<'_>, error: Error) -> String {
    if !matches!(error, Error::Exception) {
        return error.to_string();
    }
    let thrown = ctx.catch();
    if let Some(exception) = thrown.as_exception() {
        let message = exception.message().unwrap_or_default();
        let name: String = exception.get("name").unwrap_or_else(|_| "Error".to_owned());
        let at = exception
            .stack()
            .and_then(|stack| {
                // The first frame in the script's own files, not in the k6 modules.
                stack
                    .lines()
                    .map(str::trim)
                    .filter(|line| line.starts_with("at "))
                    .find(|line| {
                        !imports::BUILTIN
                            .iter()
                            .any(|(name, _)| line.contains(&format!("({name}:")))
                    })
                    .map(|line| format!(" {line}"))
            })
            .unwrap_or_default();
        return format!("{name}: {message}{at}");
    }
    match thrown.as_string().and_then(|s| s.to_string().ok()) {
        Some(text) => text,
        None => format!("{thrown:?}"),
    }
}

/// The module resolver and loader: k6 built-ins, and the local files read when the script loaded.
#[derive(Debug)]
struct Modules(Arc<Code>);

impl Resolver for Modules {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        let resolved = imports::resolve(base, name);
        if imports::BUILTIN.iter().any(|(b, _)| *b == resolved)
            || self.0.sources.contains_key(&resolved)
        {
            Ok(resolved)
        } else {
            Err(Error::new_resolving(base, name))
        }
    }
}

impl Loader for Modules {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, rquickjs::module::Declared>> {
        let source = imports::BUILTIN
            .iter()
            .find(|(b, _)| *b == name)
            .map(|(_, source)| *source)
            .or_else(|| self.0.sources.get(name).map(String::as_str))
            .ok_or_else(|| Error::new_loading(name))?;
        Module::declare(ctx.clone(), name, source)
    }
}
