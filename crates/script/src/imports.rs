//! What a script imports: k6's built-in modules scalelab provides, local files (read once, when the
//! script loads), and everything else refused at its `file:line`. Written by hand: a scan of
//! `from '…'`, `import '…'` and `require('…')` is all this needs, not a JavaScript parser.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::ScriptError;

/// k6 built-in modules scalelab provides, with their source.
pub const BUILTIN: &[(&str, &str)] = &[
    ("k6", include_str!("js/k6.js")),
    ("k6/http", include_str!("js/http.js")),
    ("k6/execution", include_str!("js/execution.js")),
    ("k6/data", include_str!("js/data.js")),
    ("k6/metrics", include_str!("js/metrics.js")),
];

/// Modules refused, and why.
const REFUSED: &[(&str, &str)] = &[
    ("k6/browser", "scalelab drives no browser"),
    ("k6/ws", "scalelab speaks HTTP only, not WebSocket"),
    ("k6/websockets", "scalelab speaks HTTP only, not WebSocket"),
    ("k6/net/grpc", "scalelab speaks HTTP only, not gRPC"),
    (
        "k6/experimental/",
        "experimental k6 modules are not supported",
    ),
    (
        "k6/x/",
        "xk6 extensions are Go code built into a custom k6 binary",
    ),
    (
        "k6/",
        "scalelab provides k6, k6/http, k6/execution, k6/data and k6/metrics only",
    ),
    (
        "https://",
        "remote modules are not fetched: download the file and import it by path",
    ),
    (
        "http://",
        "remote modules are not fetched: download the file and import it by path",
    ),
];

/// The local modules of a script, by module name (the path as resolved), read when it loads.
pub type Sources = HashMap<String, String>;

/// Reads `main` and every local module it imports, refusing unsupported imports at their line.
pub fn read_all(main: &Path) -> Result<(String, Sources), ScriptError> {
    let name = normalize(main);
    let mut sources = Sources::new();
    let mut pending = vec![name.clone()];
    while let Some(module) = pending.pop() {
        if sources.contains_key(&module) {
            continue;
        }
        let text = scalelab_config::read_text_bounded(
            std::path::Path::new(&module),
            scalelab_config::MAX_CONFIG_BYTES,
        )
        .map_err(|source| ScriptError::Read {
            path: module.clone(),
            source,
        })?;
        for (line, specifier) in specifiers(&text) {
            if BUILTIN.iter().any(|(b, _)| *b == specifier) {
                continue;
            }
            if let Some((_, why)) = REFUSED
                .iter()
                .find(|(p, _)| specifier == *p || (p.ends_with('/') && specifier.starts_with(p)))
            {
                return Err(ScriptError::Unsupported {
                    file: module.clone(),
                    line,
                    import: specifier,
                    why: (*why).to_owned(),
                });
            }
            if !specifier.starts_with('.') && !specifier.starts_with('/') {
                return Err(ScriptError::Unsupported {
                    file: module.clone(),
                    line,
                    import: specifier,
                    why:
                        "scalelab provides k6, k6/http, k6/execution, k6/data and k6/metrics, and \
                          imports \
                          local files by relative path"
                            .to_owned(),
                });
            }
            pending.push(resolve(&module, &specifier));
        }
        sources.insert(module, text);
    }
    Ok((name, sources))
}

/// The module name `specifier` names when imported from module `base`.
pub fn resolve(base: &str, specifier: &str) -> String {
    if BUILTIN.iter().any(|(b, _)| *b == specifier) {
        return specifier.to_owned();
    }
    let dir = Path::new(base).parent().unwrap_or(Path::new(""));
    normalize(&dir.join(specifier))
}

/// A path with `.` and `..` folded, as a module name.
fn normalize(path: &Path) -> String {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.display().to_string()
}

/// Every module specifier in `text` with its line: `from '…'`, `import '…'`, `import('…')`,
/// `require('…')`. Comment lines (`//` first on the line, inside `/* */`) are skipped.
fn specifiers(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_block = false;
    for (index, raw) in text.lines().enumerate() {
        let mut line = raw;
        if in_block {
            match line.find("*/") {
                Some(end) => {
                    in_block = false;
                    line = &line[end + 2..];
                }
                None => continue,
            }
        }
        if let Some(start) = line.find("/*")
            && !line[start..].contains("*/")
        {
            in_block = true;
            line = &line[..start];
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        for keyword in ["from", "import", "require("] {
            let mut rest = line;
            while let Some(at) = rest.find(keyword) {
                let before_ok = rest[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '.');
                let after = rest[at + keyword.len()..].trim_start();
                let after = after.strip_prefix('(').unwrap_or(after).trim_start();
                rest = &rest[at + keyword.len()..];
                if !before_ok {
                    continue;
                }
                let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                    continue;
                };
                if let Some(end) = after[1..].find(quote) {
                    found.push((index + 1, after[1..1 + end].to_owned()));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_are_found_with_their_lines_and_comments_skipped() {
        let text = "import http from 'k6/http';\nimport {\n  check,\n} from \"k6\";\n// import ws from 'k6/ws';\n/* import x from 'k6/x/y';\n*/ import './side.js';\nconst lib = require('./lib.js');\nconst s = 'imported from nowhere';\n";
        assert_eq!(
            specifiers(text),
            [
                (1, "k6/http".to_owned()),
                (4, "k6".to_owned()),
                (7, "./side.js".to_owned()),
                (8, "./lib.js".to_owned()),
            ]
        );
    }

    #[test]
    fn local_paths_resolve_against_the_importing_module() {
        assert_eq!(resolve("tests/a/main.js", "./lib/x.js"), "tests/a/lib/x.js");
        assert_eq!(resolve("tests/a/main.js", "../b.js"), "tests/b.js");
        assert_eq!(resolve("main.js", "k6/http"), "k6/http");
    }
}
