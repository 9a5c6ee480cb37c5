//! AWS scaling adjustments: how a simple or step scaling policy changes capacity.

use serde::{Deserialize, Serialize};

/// How an adjustment is read, as in EC2 Auto Scaling's `AdjustmentType`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentType {
    /// Add (or with a negative value remove) this many instances.
    #[default]
    #[serde(alias = "ChangeInCapacity")]
    ChangeInCapacity,
    /// Set the capacity to this value.
    #[serde(alias = "ExactCapacity")]
    ExactCapacity,
    /// Change the capacity by this percentage of the current capacity.
    #[serde(alias = "PercentChangeInCapacity")]
    PercentChangeInCapacity,
}

/// The capacity after applying `adjustment` to `current`, before min/max. For percentages AWS rounds
/// values above 1 down, values between 0 and 1 up to 1, values between -1 and 0 down to -1 and values
/// below -1 up; then `min_adjustment_magnitude`, if given, is the smallest change made.
pub fn adjusted_capacity(
    current: u32,
    kind: AdjustmentType,
    adjustment: f64,
    min_adjustment_magnitude: Option<u32>,
) -> i64 {
    let current = i64::from(current);
    match kind {
        AdjustmentType::ChangeInCapacity => current + adjustment as i64,
        AdjustmentType::ExactCapacity => adjustment as i64,
        AdjustmentType::PercentChangeInCapacity => {
            let raw = current as f64 * adjustment / 100.0;
            let mut change = if raw >= 1.0 {
                raw.floor()
            } else if raw > 0.0 {
                1.0
            } else if raw > -1.0 && raw < 0.0 {
                -1.0
            } else {
                raw.ceil()
            } as i64;
            if let Some(magnitude) = min_adjustment_magnitude.map(i64::from)
                && change != 0
                && change.abs() < magnitude
            {
                change = change.signum() * magnitude;
            }
            current + change
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AdjustmentType::*;

    #[test]
    fn change_and_exact_capacity() {
        assert_eq!(adjusted_capacity(3, ChangeInCapacity, 2.0, None), 5);
        assert_eq!(adjusted_capacity(3, ChangeInCapacity, -1.0, None), 2);
        assert_eq!(adjusted_capacity(3, ExactCapacity, 7.0, None), 7);
    }

    #[test]
    fn percent_rounding_as_aws_documents_it() {
        // 12.7 -> 12, 0.67 -> 1, -0.58 -> -1, -6.67 -> -6.
        assert_eq!(
            adjusted_capacity(127, PercentChangeInCapacity, 10.0, None),
            127 + 12
        );
        assert_eq!(
            adjusted_capacity(67, PercentChangeInCapacity, 1.0, None),
            68
        );
        assert_eq!(
            adjusted_capacity(58, PercentChangeInCapacity, -1.0, None),
            57
        );
        assert_eq!(
            adjusted_capacity(667, PercentChangeInCapacity, -1.0, None),
            661
        );
    }

    #[test]
    fn min_adjustment_magnitude() {
        // AWS: capacity 4, +25 % is 1 instance; with MinAdjustmentMagnitude 2 it is 2.
        assert_eq!(adjusted_capacity(4, PercentChangeInCapacity, 25.0, None), 5);
        assert_eq!(
            adjusted_capacity(4, PercentChangeInCapacity, 25.0, Some(2)),
            6
        );
        // A change already above the magnitude is kept; scale-in honours it too.
        assert_eq!(
            adjusted_capacity(20, PercentChangeInCapacity, 50.0, Some(2)),
            30
        );
        assert_eq!(
            adjusted_capacity(4, PercentChangeInCapacity, -25.0, Some(2)),
            2
        );
    }
}
