//! Query parameters with range checks and JSON errors that name the parameter and its valid range.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An HTTP error answered as `{"error": ..., ...}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The query string of one request.
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// The parameter `name` parsed as `T` within `min..=max`, or `default` when absent.
    pub fn get<T>(
        &self,
        name: &str,
        min: T,
        max: T,
        default: Option<T>,
    ) -> Result<Option<T>, ApiError>
    where
        T: FromStr + PartialOrd + Display + Copy + serde::Serialize,
    {
        let Some(raw) = self.0.get(name) else {
            return Ok(default);
        };
        let invalid = |why: &str| {
            let mut error = ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("parameter '{name}' {why}: expected a number from {min} to {max}"),
            );
            error.body["parameter"] = json!(name);
            error.body["value"] = json!(raw);
            error.body["min"] = json!(min);
            error.body["max"] = json!(max);
            error
        };
        let value: T = raw.trim().parse().map_err(|_| invalid("is not a number"))?;
        if !(value >= min && value <= max) {
            return Err(invalid("is out of range"));
        }
        Ok(Some(value))
    }
}
