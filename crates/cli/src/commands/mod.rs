//! One module per command.

pub mod cost;
pub mod serve;
pub mod sim;
pub mod sweep;
