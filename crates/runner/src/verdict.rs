//! What a run proves, and the exit code that tells CI.

use scalelab_load::engine::Interruption;
use scalelab_metrics::Summary;

/// Exit codes: k6's where k6 has one, and scalelab's own above k6's range.
pub mod exit {
    /// A threshold failed.
    pub const THRESHOLDS_FAILED: u8 = 99;
    /// The plan is invalid.
    pub const INVALID_CONFIG: u8 = 104;
    /// Ctrl-C or SIGTERM stopped the run.
    pub const EXTERNAL_ABORT: u8 = 105;
    /// A script's init code, `setup()` or `teardown()` threw (k6's `ScriptException`, 107).
    pub const SCRIPT_ERROR: u8 = 107;
    /// A script called `test.abort()` (k6's `ScriptAborted`, 108).
    pub const SCRIPT_ABORTED: u8 = 108;
    /// Requests were sent and none was answered: the run measured no server (scalelab's own; k6
    /// has no such code and passes such a run when it has no thresholds).
    pub const NO_RESPONSE: u8 = 111;
}

/// The verdict of a run, from the most to the least decisive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The script called `test.abort()`.
    ScriptAborted,
    /// The script's init, `setup()` or `teardown()` threw, or its code failed fatally.
    ScriptError,
    /// A threshold failed, or one with `abortOnFail` stopped the run.
    ThresholdsFailed,
    /// A signal stopped the run before its plan ended.
    Stopped,
    /// Requests were sent and none was answered, or nothing ran at all
    /// ([`Summary::nothing_answered`]).
    NoResponse,
    /// The plan ran, something answered, and every threshold held.
    Passed,
}

impl Verdict {
    /// The verdict of a run that ended with `interrupted` and `summary`; `script` is the script's
    /// own failure, if any.
    pub fn of_run(
        summary: &Summary,
        interrupted: Option<&Interruption>,
        script: Option<Verdict>,
    ) -> Self {
        if let Some(verdict) = script {
            return verdict;
        }
        match interrupted {
            Some(Interruption::Threshold(_)) => Self::ThresholdsFailed,
            Some(Interruption::Stopped) => Self::Stopped,
            None => Self::of_summary(summary),
        }
    }

    /// The verdict a summary alone gives (a merged test, a run read back): no response at all
    /// outweighs thresholds, which may hold vacuously on nothing.
    pub fn of_summary(summary: &Summary) -> Self {
        if summary.nothing_answered() {
            Self::NoResponse
        } else if !summary.thresholds_passed() {
            Self::ThresholdsFailed
        } else {
            Self::Passed
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Self::ScriptAborted => exit::SCRIPT_ABORTED,
            Self::ScriptError => exit::SCRIPT_ERROR,
            Self::ThresholdsFailed => exit::THRESHOLDS_FAILED,
            Self::Stopped => exit::EXTERNAL_ABORT,
            Self::NoResponse => exit::NO_RESPONSE,
            Self::Passed => 0,
        }
    }
}
