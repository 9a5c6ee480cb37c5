//! One module per command.

pub mod cluster;
pub mod compare;
pub mod cost;
pub mod demo;
pub mod execute;
pub mod export;
pub mod quick;
pub mod report;
pub mod run;
pub mod serve;
pub mod sim;
pub mod sweep;
