//! A parsed plan document that keeps the position of every key and value, and typed accessors that
//! report errors at those positions.
//!
//! YAML and JSON are both read by serde-saphyr into [`Node`]s (JSON is YAML's flow style) using its
//! [`Spanned`] wrapper, so every value and every mapping key knows its line and column. The dialect
//! readers then walk the tree with [`Obj`], which records which keys were used and reports the rest
//! as unknown, with the nearest known name.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use scalelab_config::did_you_mean;

use super::error::{PlanError, Pos};

/// The plan dialects scalelab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Native,
    K6,
    Artillery,
}

impl Dialect {
    /// How the dialect is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Dialect::Native => "scalelab plan",
            Dialect::K6 => "k6 options",
            Dialect::Artillery => "Artillery script",
        }
    }
}

/// The state of one load: which file, which dialect, and the warnings gathered so far.
pub(crate) struct Ctx {
    origin: String,
    pub dialect: Dialect,
    /// The k6 options a script exports: the script's code is what iterations run.
    pub script: bool,
    pub warnings: Vec<String>,
}

pub(crate) type Result<T> = std::result::Result<T, PlanError>;

impl Ctx {
    pub fn new(origin: &str, dialect: Dialect) -> Self {
        Self {
            origin: origin.to_string(),
            dialect,
            script: false,
            warnings: Vec::new(),
        }
    }

    /// An error at `pos`.
    pub fn error(&self, pos: Pos, message: impl Into<String>) -> PlanError {
        PlanError::Invalid {
            origin: self.origin.clone(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }

    /// A warning at `pos`, shown to the user before the run.
    pub fn warn(&mut self, pos: Pos, message: impl fmt::Display) {
        let line = format!("{}:{}:{}: {message}", self.origin, pos.line, pos.column);
        if !self.warnings.contains(&line) {
            self.warnings.push(line);
        }
    }
}

/// One value of the document and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// A YAML/JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

fn pos_of<T>(spanned: &Spanned<T>) -> Pos {
    Pos {
        line: spanned.referenced.line(),
        column: spanned.referenced.column(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            pos: pos_of(&spanned),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML or JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Node>()?;
            entries.push(Entry {
                key_pos: pos_of(&key),
                key: key.value.0,
                value,
            });
        }
        Ok(Value::Map(entries))
    }
}

/// A mapping key as text (YAML allows numbers and booleans as keys).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text, number or boolean key")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

impl Node {
    /// What kind of value this is, for "must be X, not Y" messages.
    fn kind(&self) -> String {
        match &self.value {
            Value::Null => "empty".into(),
            Value::Bool(b) => format!("{b}"),
            Value::Int(n) => format!("the number {n}"),
            Value::Float(n) => format!("the number {n}"),
            Value::Str(s) => format!("the text {s:?}"),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    fn wrong(&self, ctx: &Ctx, what: &str, expected: &str) -> PlanError {
        ctx.error(
            self.pos,
            format!("{what} must be {expected}, not {}", self.kind()),
        )
    }

    pub fn str(&self, ctx: &Ctx, what: &str) -> Result<&str> {
        match &self.value {
            Value::Str(s) => Ok(s),
            _ => Err(self.wrong(ctx, what, "text")),
        }
    }

    /// Text, or a number or boolean written without quotes (header values, names).
    pub fn text(&self, ctx: &Ctx, what: &str) -> Result<String> {
        match &self.value {
            Value::Str(s) => Ok(s.clone()),
            Value::Int(n) => Ok(n.to_string()),
            Value::Float(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.wrong(ctx, what, "text")),
        }
    }

    pub fn u64(&self, ctx: &Ctx, what: &str) -> Result<u64> {
        match self.value {
            Value::Int(n) if n >= 0 => Ok(n as u64),
            Value::Float(n) if n >= 0.0 && n.fract() == 0.0 && n < u64::MAX as f64 => Ok(n as u64),
            _ => Err(self.wrong(ctx, what, "a whole number >= 0")),
        }
    }

    /// A whole number >= 0 and at most `max`; `why` says what bounds it.
    pub fn u64_at_most(&self, ctx: &Ctx, what: &str, max: u64, why: &str) -> Result<u64> {
        let value = self.u64(ctx, what)?;
        if value > max {
            return Err(ctx.error(self.pos, format!("{what} is {value}, above {max}: {why}")));
        }
        Ok(value)
    }

    /// A number >= 0 and at most `max`; `why` says what bounds it.
    pub fn f64_at_most(&self, ctx: &Ctx, what: &str, max: f64, why: &str) -> Result<f64> {
        let value = self.f64(ctx, what)?;
        if value > max {
            return Err(ctx.error(self.pos, format!("{what} is {value}, above {max}: {why}")));
        }
        Ok(value)
    }

    pub fn f64(&self, ctx: &Ctx, what: &str) -> Result<f64> {
        match self.value {
            Value::Int(n) if n >= 0 => Ok(n as f64),
            Value::Float(n) if n >= 0.0 && n.is_finite() => Ok(n),
            _ => Err(self.wrong(ctx, what, "a number >= 0")),
        }
    }

    pub fn bool(&self, ctx: &Ctx, what: &str) -> Result<bool> {
        match self.value {
            Value::Bool(b) => Ok(b),
            _ => Err(self.wrong(ctx, what, "true or false")),
        }
    }

    pub fn seq(&self, ctx: &Ctx, what: &str) -> Result<&[Node]> {
        match &self.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.wrong(ctx, what, "a list")),
        }
    }

    /// A duration: `90s`, `1m30s`, `2h`, `250ms`, or a number of seconds; at most a year.
    pub fn duration(&self, ctx: &Ctx, what: &str) -> Result<Duration> {
        let max = super::model::limits::MAX_DURATION;
        let duration = match &self.value {
            Value::Str(s) => scalelab_config::parse_duration(s)
                .map_err(|e| ctx.error(self.pos, format!("bad duration for {what}: {e}")))?,
            Value::Int(_) | Value::Float(_) => {
                let seconds = self.f64(ctx, what)?;
                Duration::try_from_secs_f64(seconds.min(max.as_secs_f64() + 1.0))
                    .map_err(|e| ctx.error(self.pos, format!("bad duration for {what}: {e}")))?
            }
            _ => return Err(self.wrong(ctx, what, "a duration like 90s, 1m30s or 2h")),
        };
        if duration > max {
            return Err(ctx.error(
                self.pos,
                format!("{what} is longer than a year, the longest duration scalelab runs"),
            ));
        }
        Ok(duration)
    }

    /// The mapping's entries, to be read with [`Obj`]; `what` names it in messages.
    pub fn map(&self, ctx: &Ctx, what: &str) -> Result<Obj<'_>> {
        match &self.value {
            Value::Map(entries) => Ok(Obj::new(self.pos, entries.iter().collect(), what)),
            _ => Err(self.wrong(ctx, what, "a mapping")),
        }
    }

    /// The value as JSON (request bodies); NaN and the infinities, which JSON has no numbers for,
    /// are refused.
    pub fn to_json(&self, ctx: &Ctx, what: &str) -> Result<serde_json::Value> {
        Ok(match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(n) => (*n).into(),
            Value::Float(n) => serde_json::Number::from_f64(*n)
                .ok_or_else(|| self.wrong(ctx, what, "JSON: a finite number"))?
                .into(),
            Value::Str(s) => s.as_str().into(),
            Value::Seq(items) => items
                .iter()
                .map(|item| item.to_json(ctx, what))
                .collect::<Result<Vec<_>>>()?
                .into(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| Ok((e.key.clone(), e.value.to_json(ctx, what)?)))
                .collect::<Result<serde_json::Map<_, _>>>()?
                .into(),
        })
    }
}

/// A mapping being read: keys are taken with [`Obj::get`]; [`Obj::finish`] reports the keys nobody
/// asked for (an error in native plans; a warning in k6 and Artillery files, whose tools ignore them).
pub(crate) struct Obj<'a> {
    pub pos: Pos,
    entries: Vec<&'a Entry>,
    used: Vec<bool>,
    asked: Vec<&'static str>,
    pub what: String,
}

impl<'a> Obj<'a> {
    pub fn new(pos: Pos, entries: Vec<&'a Entry>, what: &str) -> Self {
        Self {
            pos,
            used: vec![false; entries.len()],
            entries,
            asked: Vec::new(),
            what: what.to_string(),
        }
    }

    /// The value of `name`. In k6 files, a key that differs only in case matches too (Go's JSON
    /// decoder does that), with a warning.
    pub fn get(&mut self, ctx: &mut Ctx, name: &'static str) -> Option<&'a Node> {
        self.entry(ctx, name).map(|e| &e.value)
    }

    /// Like [`Obj::get`], with the key's own position and spelling.
    pub fn entry(&mut self, ctx: &mut Ctx, name: &'static str) -> Option<&'a Entry> {
        self.asked.push(name);
        if let Some(i) = self.entries.iter().rposition(|e| e.key == name) {
            self.used[i] = true;
            return Some(self.entries[i]);
        }
        if ctx.dialect != Dialect::K6 {
            return None;
        }
        let i = self
            .entries
            .iter()
            .rposition(|e| e.key.eq_ignore_ascii_case(name))?;
        self.used[i] = true;
        let entry = self.entries[i];
        ctx.warn(
            entry.key_pos,
            format!(
                "'{}' in {} is read as '{name}': k6 matches option names case-insensitively; \
                 write '{name}'",
                entry.key, self.what
            ),
        );
        Some(entry)
    }

    /// The value of `name`, which must be present.
    pub fn require(&mut self, ctx: &mut Ctx, name: &'static str) -> Result<&'a Node> {
        self.get(ctx, name).ok_or_else(|| {
            ctx.error(
                self.pos,
                format!("missing required option '{name}' in {}", self.what),
            )
        })
    }

    /// Accepts `name` without using it, with a warning saying why.
    pub fn ignore(&mut self, ctx: &mut Ctx, name: &'static str, why: &str) {
        if let Some(entry) = self.entry(ctx, name) {
            ctx.warn(
                entry.key_pos,
                format!("'{}' in {} is ignored: {why}", entry.key, self.what),
            );
        }
    }

    /// Every entry, all marked as used (free-form mappings such as headers).
    pub fn all(&mut self) -> Vec<&'a Entry> {
        self.used.iter_mut().for_each(|used| *used = true);
        self.entries.clone()
    }

    /// Marks every key starting with `_` as used (k6 annotation keys).
    pub fn skip_annotations(&mut self) {
        for (entry, used) in self.entries.iter().zip(&mut self.used) {
            *used |= entry.key.starts_with('_');
        }
    }

    /// Reports the keys that were never asked for.
    pub fn finish(self, ctx: &mut Ctx) -> Result<()> {
        for (entry, _) in self
            .entries
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
        {
            let hint = did_you_mean(&entry.key, self.asked.iter().copied());
            match ctx.dialect {
                Dialect::Native => {
                    return Err(ctx.error(
                        entry.key_pos,
                        format!("unknown field '{}' in {}{hint}", entry.key, self.what),
                    ));
                }
                Dialect::K6 | Dialect::Artillery => {
                    let tool = if ctx.dialect == Dialect::K6 {
                        "k6"
                    } else {
                        "Artillery"
                    };
                    ctx.warn(
                        entry.key_pos,
                        format!(
                            "unknown field '{}' in {} is ignored, as {tool} ignores it{hint}",
                            entry.key, self.what
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}
