//! Autoscaling policies to and from the forms teams deploy.
//!
//! - [`export`]: a [`Policy`] as Terraform (`aws_autoscaling_policy` and `aws_cloudwatch_metric_alarm`),
//!   a Kubernetes `autoscaling/v2` HorizontalPodAutoscaler, or Elastic Beanstalk option settings.
//! - [`load_policy`]: one loader for a native policy file, an HPA manifest (v2 or v1) or Terraform files,
//!   told apart by extension and content.
//!
//! Each format's reader and writer live in its own module.

mod aws;
mod beanstalk;
mod hpa;
mod terraform;

use std::fmt;
use std::path::Path;

use scalelab_scaling::{Policy, PolicyError};

/// A format policies are exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Terraform for the AWS provider.
    Terraform,
    /// Kubernetes HorizontalPodAutoscaler, autoscaling/v2.
    Hpa,
    /// Elastic Beanstalk `.ebextensions` option settings.
    Beanstalk,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Terraform => "terraform",
            Self::Hpa => "hpa",
            Self::Beanstalk => "beanstalk",
        })
    }
}

/// Names the exported objects take.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Prefix of AWS policy and alarm names; the HPA's name and its Deployment's.
    pub name: String,
}

/// Why a policy cannot be written in a format.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    #[error("{format} cannot express `{field}`: {why}")]
    Unsupported {
        format: Format,
        field: String,
        why: String,
    },
    #[error("invalid name '{0}': use letters, digits and '-' (a DNS label, at most 63 characters)")]
    Name(String),
    #[error("cannot write {format}: {message}")]
    Write { format: Format, message: String },
}

/// Why a file is not a policy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}: {field}: {why}")]
    Unsupported {
        file: String,
        field: String,
        why: String,
    },
    #[error("{file}: {error}")]
    Policy { file: String, error: PolicyError },
}

/// `policy` written in `format`.
pub fn export(
    policy: &Policy,
    format: Format,
    options: &ExportOptions,
) -> Result<String, ExportError> {
    let name = &options.name;
    let label = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !label {
        return Err(ExportError::Name(name.clone()));
    }
    // Step bounds, limits and targets are checked once, by the policy itself (AWS's and
    // Kubernetes' own rules), for a policy built in code as for one read from a file.
    policy.validate().map_err(|e| ExportError::Unsupported {
        format,
        field: "policy".into(),
        why: e.to_string(),
    })?;
    match format {
        Format::Terraform => terraform::write(policy, options),
        Format::Hpa => hpa::write(policy, options),
        Format::Beanstalk => beanstalk::write(policy, options),
    }
}

/// Reads the policy in `path`: Terraform when it is a `.tf` file or a directory (its `.tf` files), a
/// Kubernetes HorizontalPodAutoscaler when the YAML says `kind: HorizontalPodAutoscaler`, the native
/// format otherwise.
pub fn load_policy(path: &Path) -> Result<Policy, ImportError> {
    let file = path.display().to_string();
    let read = |path: &Path| {
        scalelab_config::read_text_bounded(path, scalelab_config::MAX_CONFIG_BYTES).map_err(|e| {
            ImportError::Read {
                file: path.display().to_string(),
                message: e.to_string(),
            }
        })
    };
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| ImportError::Read {
                file: file.clone(),
                message: e.to_string(),
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "tf"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ImportError::Read {
                file,
                message: "a policy directory needs Terraform (.tf) files".into(),
            });
        }
        let mut text = String::new();
        for tf in &files {
            text.push_str(&read(tf)?);
            text.push('\n');
        }
        return terraform::read(&text, &file);
    }
    let text = read(path)?;
    if path.extension().is_some_and(|e| e == "tf") {
        return terraform::read(&text, &file);
    }
    read_yaml(&text, &file)
}

/// A native policy or an HPA manifest, told apart by its `kind`.
pub fn read_yaml(text: &str, file: &str) -> Result<Policy, ImportError> {
    if hpa::is_hpa(text) {
        return hpa::read(text, file);
    }
    Policy::from_yaml(text).map_err(|error| ImportError::Policy {
        file: file.to_owned(),
        error,
    })
}

/// Reads Terraform text holding `aws_autoscaling_policy` and alarm resources.
pub fn read_terraform(text: &str, file: &str) -> Result<Policy, ImportError> {
    terraform::read(text, file)
}
