//! Setting one policy parameter by name, for `--set` and sweep grids. A name is a field path
//! (`beanstalk.upper_threshold`, `simple.0.alarm.threshold`) or any unambiguous last part of one
//! (`upper_threshold`); a full path may also name an optional field the policy does not set yet.

use serde_json::Value;

use crate::{Policy, PolicyError};

/// A parameter's value: a number (durations in seconds) or text (`5m`, `oldest`).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Number(f64),
    Text(String),
}

impl ParamValue {
    /// A number when `text` is one, text otherwise.
    pub fn parse(text: &str) -> Self {
        match text.trim().parse::<f64>() {
            Ok(number) => Self::Number(number),
            Err(_) => Self::Text(text.trim().to_owned()),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => Value::from(*n as i64),
            Self::Number(n) => Value::from(*n),
            Self::Text(text) => Value::from(text.as_str()),
        }
    }
}

/// `policy` with the parameter `name` set to `value`, validated.
pub fn set_param(policy: &Policy, name: &str, value: &ParamValue) -> Result<Policy, PolicyError> {
    set_params(policy, &[(name, value.clone())])
}

/// `policy` with every `(name, value)` set, then validated once (so related values such as two
/// thresholds may change together).
pub fn set_params(policy: &Policy, params: &[(&str, ParamValue)]) -> Result<Policy, PolicyError> {
    let error = |name: &str, message: String| PolicyError::Param {
        name: name.to_owned(),
        message,
    };
    let mut document =
        serde_json::to_value(policy).map_err(|e| PolicyError::Invalid(e.to_string()))?;
    for (name, value) in params {
        let path = resolve_in(&document, name).map_err(|m| error(name, m))?;
        set_path(&mut document, &path, value.to_json()).map_err(|m| error(name, m))?;
    }
    let updated: Policy = serde_json::from_value(document).map_err(|e| {
        let names: Vec<&str> = params.iter().map(|(name, _)| *name).collect();
        error(&names.join(", "), e.to_string())
    })?;
    updated.validate().map_err(|e| {
        let names: Vec<&str> = params.iter().map(|(name, _)| *name).collect();
        error(&names.join(", "), e.to_string())
    })?;
    Ok(updated)
}

/// Checks that `name` is a parameter of `policy`, without setting it.
pub fn check_param(policy: &Policy, name: &str) -> Result<(), PolicyError> {
    let document = serde_json::to_value(policy).map_err(|e| PolicyError::Invalid(e.to_string()))?;
    resolve_in(&document, name)
        .map(drop)
        .map_err(|message| PolicyError::Param {
            name: name.to_owned(),
            message,
        })
}

fn resolve_in(document: &Value, name: &str) -> Result<String, String> {
    let mut leaves = Vec::new();
    collect_leaves(document, String::new(), &mut leaves);
    resolve(name, &leaves, document)
}

fn collect_leaves(value: &Value, prefix: String, leaves: &mut Vec<String>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect_leaves(v, join(k), leaves)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| collect_leaves(v, join(&i.to_string()), leaves)),
        _ => leaves.push(prefix),
    }
}

fn resolve(name: &str, leaves: &[String], document: &Value) -> Result<String, String> {
    if leaves.iter().any(|leaf| leaf == name) {
        return Ok(name.to_owned());
    }
    let suffix = format!(".{name}");
    let matches: Vec<&String> = leaves
        .iter()
        .filter(|leaf| leaf.ends_with(&suffix))
        .collect();
    match matches[..] {
        [one] => return Ok(one.clone()),
        [_, _, ..] => {
            let list: Vec<&str> = matches.iter().map(|m| m.as_str()).collect();
            return Err(format!(
                "ambiguous: give the full path, one of {}",
                list.join(", ")
            ));
        }
        [] => {}
    }
    // A full path to a field the policy leaves unset: its parent must exist.
    if let Some((parent, _)) = name.rsplit_once('.')
        && document
            .pointer(&pointer(parent))
            .is_some_and(Value::is_object)
    {
        return Ok(name.to_owned());
    }
    let short_names = leaves
        .iter()
        .map(|leaf| leaf.rsplit('.').next().unwrap_or(leaf));
    let hint =
        scalelab_config::did_you_mean(name, short_names.chain(leaves.iter().map(String::as_str)));
    Err(format!("no such parameter in this policy{hint}"))
}

fn pointer(path: &str) -> String {
    path.split('.').map(|part| format!("/{part}")).collect()
}

fn set_path(document: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
    let target = if parent.is_empty() {
        Some(document)
    } else {
        document.pointer_mut(&pointer(parent))
    };
    match target {
        Some(Value::Object(map)) => {
            map.insert(key.to_owned(), value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let slot = key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| format!("no item '{key}' in '{parent}'"))?;
            *slot = value;
            Ok(())
        }
        _ => Err(format!("'{parent}' is not a section of the policy")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str =
        "max: 10\nstartup: 4m\nbeanstalk:\n  upper_threshold: 25\n  lower_threshold: 15\n";

    #[test]
    fn set_by_short_name_full_path_and_unset_field() {
        let policy = Policy::from_yaml(POLICY).unwrap();
        let upper = set_param(&policy, "upper_threshold", &ParamValue::Number(30.0)).unwrap();
        assert_eq!(upper.beanstalk.unwrap().upper_threshold, 30.0);
        let path = set_param(
            &policy,
            "beanstalk.scale_up_increment",
            &ParamValue::parse("3"),
        )
        .unwrap();
        assert_eq!(path.beanstalk.unwrap().scale_up_increment, 3);
        let startup = set_param(&policy, "startup", &ParamValue::parse("90s")).unwrap();
        assert_eq!(startup.startup.as_secs(), 90);
        // Unset optional fields are parameters too.
        let initial = set_param(&policy, "initial", &ParamValue::Number(2.0)).unwrap();
        assert_eq!(initial.initial(), 2);
    }

    #[test]
    fn unknown_and_invalid_values_name_the_parameter() {
        let policy = Policy::from_yaml(POLICY).unwrap();
        let unknown = set_param(&policy, "uper_threshold", &ParamValue::Number(1.0)).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "parameter 'uper_threshold': no such parameter in this policy (did you mean 'upper_threshold'?)"
        );
        let invalid = set_param(&policy, "lower_threshold", &ParamValue::Number(40.0)).unwrap_err();
        assert!(
            invalid
                .to_string()
                .contains("must be below upper_threshold"),
            "{invalid}"
        );
        let text =
            set_param(&policy, "scale_up_increment", &ParamValue::parse("many")).unwrap_err();
        assert!(
            text.to_string()
                .starts_with("parameter 'scale_up_increment'"),
            "{text}"
        );
    }
}
