//! One module per command.

pub mod against;
pub mod capacity;
pub mod cluster;
pub mod compare;
pub mod cost;
pub mod demo;
pub mod execute;
pub mod export;
pub mod fit;
pub mod inspect;
pub mod k8s;
pub mod merge;
pub mod plan;
pub mod quick;
pub mod replica;
pub mod report;
pub mod run;
pub mod serve;
pub mod sim;
pub mod sweep;
