//! `scalelab replica --parent-pid PID -- COMMAND...` (hidden): how `scalelab cluster` starts a
//! custom-command replica. It arms Linux's parent-death signal, then becomes the command (exec), so the
//! replica is killed when scalelab dies, even by SIGKILL.

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct ReplicaArgs {
    /// The cluster's process: the replica is killed (SIGKILL) when it dies.
    #[arg(long, value_name = "PID")]
    parent_pid: u32,
    /// The replica's command line.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn run(args: ReplicaArgs) -> anyhow::Result<ExitCode> {
    // The signal survives exec; SIGKILL because no one is left to escalate a SIGTERM it ignores.
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    if nix::unistd::getppid().as_raw() as u32 != args.parent_pid {
        // The cluster died before the death signal was armed.
        return Ok(ExitCode::FAILURE);
    }
    let error = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .exec();
    eprintln!("cannot run '{}': {error}", args.command[0]);
    Ok(ExitCode::from(127))
}
