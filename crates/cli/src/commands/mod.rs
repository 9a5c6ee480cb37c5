//! One module per command.

pub mod demo;
pub mod execute;
pub mod quick;
pub mod run;
pub mod serve;
