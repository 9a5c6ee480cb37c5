//! Durations in configuration files (policies, clusters): `90s`, `1m30s`, `5m` or plain seconds, read
//! with [`parse_duration`](crate::parse_duration);
//! written as seconds so a policy survives a round trip through JSON.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer, de::Error};

#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Seconds(f64),
    Text(String),
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    match Text::deserialize(deserializer)? {
        Text::Seconds(seconds) => Duration::try_from_secs_f64(seconds)
            .map_err(|_| D::Error::custom(format!("{seconds} is not a valid number of seconds"))),
        Text::Text(text) => crate::parse_duration(&text).map_err(D::Error::custom),
    }
}

pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        serializer.serialize_u64(duration.as_secs())
    } else {
        serializer.serialize_f64(seconds)
    }
}
