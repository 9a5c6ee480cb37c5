//! What every configuration file of scalelab shares (plans, policies, cluster files, command-line
//! values): durations written as `90s`, `1m30s` or plain seconds, their serde form, the
//! "did you mean" suggestion for a misspelt name, and the bounded read of a file a user hands over.

mod duration;
pub mod duration_serde;
mod file;
mod names;

pub use duration::{DurationError, format_duration, parse_duration};
pub use file::{MAX_CONFIG_BYTES, read_bounded, read_text_bounded};
pub use names::{closest, did_you_mean, with_nearest_field};
