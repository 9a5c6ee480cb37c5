//! The plan model and its loaders: native scalelab plans, k6 options files and Artillery scripts
//! (YAML or JSON) all load into a [`Plan`]; errors say `file:line:column: what`.

mod artillery;
mod error;
mod k6;
mod load;
mod model;
mod native;
mod node;
mod offered;
mod options;
mod template;

pub use error::PlanError;
pub use load::{LoadOptions, load_file, load_script_options, load_str};
pub use model::*;
pub use template::test_plan_yaml;
