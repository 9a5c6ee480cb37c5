//! The plan model: what one run does. Loaders for every plan dialect produce a [`Plan`].

mod model;

pub use model::*;
