//! `capacity.yaml`: a capacity model measured by `scalelab capacity` (or fitted by `scalelab fit`),
//! which `sim --capacity` and `sweep --capacity` read instead of `--cpu-per-load`.

use std::fmt::Write as _;

use serde::Deserialize;

use crate::{CapacityError, LinearCapacity};

/// A measured capacity model. Load is in requests per second; CPU % is of the whole measured
/// machine (all its vCPUs = 100 %), as CloudWatch's `CPUUtilization` counts it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    /// vCPUs of the machine the CPU % is a share of.
    pub vcpus: u32,
    pub cpu: CpuModel,
    /// Resident memory against load, when the server's memory was seen.
    #[serde(default)]
    pub memory: Option<MemoryModel>,
    /// The highest offered rate the server kept up with (requests per second), when measured.
    #[serde(default)]
    pub max_sustainable_rate: Option<f64>,
}

/// CPU % = `coefficient` × requests per second + `base`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuModel {
    /// CPU % of the machine per request per second.
    pub coefficient: f64,
    /// CPU % of the idle server.
    pub base: f64,
    /// CPU seconds one request costs (`coefficient` × `vcpus` / 100).
    pub cpu_seconds_per_request: f64,
    /// Coefficient of determination of the fit (1 = every point on the line).
    pub r2: f64,
    /// Points the fit was made from.
    pub points: u32,
}

/// Resident memory in MiB = `mib_per_load` × requests per second + `base_mib`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryModel {
    pub mib_per_load: f64,
    pub base_mib: f64,
    pub r2: f64,
}

impl CapacityFile {
    /// Reads `capacity.yaml` text and checks the model is usable.
    pub fn from_yaml(text: &str) -> Result<Self, CapacityError> {
        let file: Self =
            serde_saphyr::from_str(text).map_err(|e| CapacityError::Invalid(e.to_string()))?;
        if file.vcpus == 0 {
            return Err(CapacityError::Invalid("vcpus must be at least 1".into()));
        }
        file.model()?;
        Ok(file)
    }

    /// The model `sim` runs: CPU % per request per second on a machine of `vcpus`, and the base.
    pub fn model(&self) -> Result<LinearCapacity, CapacityError> {
        LinearCapacity::new(self.cpu.coefficient, self.cpu.base)
            .map_err(|e| CapacityError::Invalid(format!("cpu: {e}")))
    }

    /// The file's text, each figure with a comment on what it means.
    pub fn to_yaml(&self) -> String {
        let mut out = String::from(
            "# A capacity model measured by scalelab (see docs/capacity.md).\n\
             # Load is in requests per second; CPU % is of the whole machine (all vCPUs = 100 %).\n",
        );
        let _ = writeln!(out, "vcpus: {}", self.vcpus);
        if let Some(rate) = self.max_sustainable_rate {
            let _ = writeln!(
                out,
                "max_sustainable_rate: {rate}  # requests/s the server kept up with"
            );
        }
        let c = &self.cpu;
        let _ = write!(
            out,
            "cpu:  # CPU % = coefficient x requests/s + base\n  \
             coefficient: {}\n  base: {}\n  \
             cpu_seconds_per_request: {}\n  r2: {}\n  points: {}\n",
            c.coefficient, c.base, c.cpu_seconds_per_request, c.r2, c.points
        );
        if let Some(m) = &self.memory {
            let _ = write!(
                out,
                "memory:  # resident MiB = mib_per_load x requests/s + base_mib\n  \
                 mib_per_load: {}\n  base_mib: {}\n  r2: {}\n",
                m.mib_per_load, m.base_mib, m.r2
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CapacityFile {
        CapacityFile {
            vcpus: 2,
            cpu: CpuModel {
                coefficient: 1.0,
                base: 0.5,
                cpu_seconds_per_request: 0.02,
                r2: 0.99,
                points: 5,
            },
            memory: Some(MemoryModel {
                mib_per_load: 0.1,
                base_mib: 12.0,
                r2: 0.5,
            }),
            max_sustainable_rate: Some(60.0),
        }
    }

    #[test]
    fn written_text_reads_back_the_same() {
        let file = sample();
        assert_eq!(CapacityFile::from_yaml(&file.to_yaml()).unwrap(), file);
        let bare = CapacityFile {
            memory: None,
            max_sustainable_rate: None,
            ..file
        };
        assert_eq!(CapacityFile::from_yaml(&bare.to_yaml()).unwrap(), bare);
        assert_eq!(
            bare.model().unwrap(),
            LinearCapacity::new(1.0, 0.5).unwrap()
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let text = sample().to_yaml();
        let unknown = text.replace("base_mib", "base_mb");
        assert!(CapacityFile::from_yaml(&unknown).is_err());
        let negative = text.replace("coefficient: 1", "coefficient: -1");
        let error = CapacityFile::from_yaml(&negative).unwrap_err().to_string();
        assert!(error.contains("coefficient"), "{error}");
        let no_cpus = text.replace("vcpus: 2", "vcpus: 0");
        assert!(CapacityFile::from_yaml(&no_cpus).is_err());
    }
}
