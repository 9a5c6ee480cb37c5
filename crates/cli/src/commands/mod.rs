//! One module per command.

pub mod compare;
pub mod demo;
pub mod execute;
pub mod quick;
pub mod report;
pub mod run;
pub mod serve;
