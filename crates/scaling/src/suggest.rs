//! "Did you mean" for unknown fields in policy files.

/// Adds the nearest expected name to "unknown field `x`, expected one of a, b" messages (serde's
/// and serde-saphyr's), at the end of the message's first line.
pub fn nearest_field(message: &str) -> String {
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let Some((unknown, expected)) = first
        .split_once("unknown field `")
        .and_then(|(_, tail)| tail.split_once('`'))
    else {
        return message.to_owned();
    };
    let Some((_, names)) = expected.split_once("expected one of ") else {
        return message.to_owned();
    };
    let names = names.split(',').map(|name| name.trim().trim_matches('`'));
    match nearest(unknown, names) {
        Some(name) if !rest.is_empty() => format!("{first} (did you mean `{name}`?)\n{rest}"),
        Some(name) => format!("{first} (did you mean `{name}`?)"),
        None => message.to_owned(),
    }
}

/// The name in `known` nearest to `name`, when it is close.
pub fn nearest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .min_by_key(|k| strsim::levenshtein(k, name))
        .filter(|k| strsim::levenshtein(k, name) <= name.len().max(3) / 2)
}
