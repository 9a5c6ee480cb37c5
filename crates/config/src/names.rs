//! "Did you mean": the known name nearest to a misspelt one.

/// The candidate closest to `word` (ignoring case, counting a swap of two letters as one edit), if
/// it is close enough to be a likely typo: at most a third of the candidate's letters, and at
/// least two, differ.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// ` (did you mean 'x'?)` when a candidate is close to `word`, else nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default()
}

/// Adds the nearest expected name to serde's (and serde-saphyr's) "unknown field `x`, expected one
/// of `a`, `b`" (or "expected `a`") message, at the end of its first line.
pub fn with_nearest_field(message: &str) -> String {
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let suggestion = first
        .split_once("unknown field `")
        .and_then(|(_, tail)| tail.split_once('`'))
        .and_then(|(unknown, tail)| {
            let (_, names) = tail.split_once("expected ")?;
            let names = names
                .trim_start_matches("one of ")
                .split(',')
                .map(|n| n.trim().trim_matches('`'));
            closest(unknown, names)
        });
    match suggestion {
        Some(name) if rest.is_empty() => format!("{first} (did you mean `{name}`?)"),
        Some(name) => format!("{first} (did you mean `{name}`?)\n{rest}"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(closest("startvu", ["startVUs", "stages"]), Some("startVUs"));
        assert_eq!(closest("exector", ["executor"]), Some("executor"));
        assert_eq!(
            closest("uper_threshold", ["upper_threshold"]),
            Some("upper_threshold")
        );
        assert_eq!(closest("banana", ["startVUs", "stages"]), None);
        assert_eq!(
            did_you_mean("max_cpo", ["max_cpu", "mean_cpu"]),
            " (did you mean 'max_cpu'?)"
        );
        assert_eq!(did_you_mean("banana", ["max_cpu"]), "");
    }

    #[test]
    fn serde_messages_get_the_nearest_field() {
        let one_of = "unknown field `thresold`, expected one of `threshold`, `period` at line 3";
        assert_eq!(
            with_nearest_field(one_of),
            format!("{one_of} (did you mean `threshold`?)")
        );
        let single = "unknown field `grac`, expected `grace`\n  at line 2";
        assert_eq!(
            with_nearest_field(single),
            "unknown field `grac`, expected `grace` (did you mean `grace`?)\n  at line 2"
        );
        let other = "invalid type: string \"x\", expected u32";
        assert_eq!(with_nearest_field(other), other);
    }
}
