//! Sweep expressions (`round(upper_threshold*0.7)`, `max_cpu<50`), evaluated with evalexpr. Every
//! variable is a float; `round` rounds half to even, as Python's does (10.5 -> 10, 11.5 -> 12).

use evalexpr::{
    ContextWithMutableFunctions, ContextWithMutableVariables, EvalexprError, Function,
    HashMapContext, Node, Value,
};

/// Longest expression text, in characters.
pub const MAX_EXPRESSION_LENGTH: usize = 1000;
/// Deepest nesting of parentheses: evalexpr parses and evaluates by recursion, so deeper nesting
/// (12,000 levels) overflows the stack of the thread that reads it.
pub const MAX_NESTING: usize = 32;

/// A parsed expression and its text.
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
    tree: Node,
}

impl Expression {
    /// Parses `text`, refusing text longer than [`MAX_EXPRESSION_LENGTH`] or nested deeper than
    /// [`MAX_NESTING`] before evalexpr reads it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let length = text.chars().count();
        if length > MAX_EXPRESSION_LENGTH {
            return Err(format!(
                "the expression has {length} characters, more than {MAX_EXPRESSION_LENGTH}"
            ));
        }
        let mut depth = 0usize;
        for c in text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Err(format!(
                    "'{text}' nests parentheses more than {MAX_NESTING} deep"
                ));
            }
        }
        let tree = evalexpr::build_operator_tree(&float_literals(text))
            .map_err(|e| format!("'{text}': {e}"))?;
        Ok(Self {
            text: text.to_owned(),
            tree,
        })
    }

    /// The names the expression reads.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.tree.iter_variable_identifiers()
    }

    /// The value as a number.
    pub fn number(&self, variables: &[(&str, f64)]) -> Result<f64, String> {
        let value = self.eval(variables)?;
        value
            .as_number()
            .map_err(|_| format!("'{}' gives {value}, not a number", self.text))
    }

    /// The value as true or false.
    pub fn boolean(&self, variables: &[(&str, f64)]) -> Result<bool, String> {
        let value = self.eval(variables)?;
        value
            .as_boolean()
            .map_err(|_| format!("'{}' gives {value}, not true or false", self.text))
    }

    fn eval(&self, variables: &[(&str, f64)]) -> Result<Value, String> {
        let mut context = HashMapContext::new();
        let fail = |e: EvalexprError| format!("'{}': {e}", self.text);
        context
            .set_function("round".into(), Function::new(round_half_even))
            .map_err(fail)?;
        for (name, value) in variables {
            context
                .set_value((*name).into(), Value::Float(*value))
                .map_err(fail)?;
        }
        self.tree.eval_with_context(&context).map_err(fail)
    }
}

/// `text` with every integer literal written as a float (`0` -> `0.0`): every variable is a float, and
/// evalexpr finds an integer and a float never equal (`0.0 == 0` is false) and divides integers
/// as integers. Digits inside names (`p99_ms`) and decimals (`0.5`, `1e3`) are left alone.
fn float_literals(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '_' | '.')));
        if !starts_number {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len());
        out.extend(&chars[i..end]);
        let continues = chars
            .get(end)
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.'));
        if !continues {
            out.push_str(".0");
        }
        i = end;
    }
    out
}

fn round_half_even(argument: &Value) -> evalexpr::EvalexprResult<Value> {
    Ok(Value::Float(argument.as_number()?.round_ties_even()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_is_half_to_even_like_python() {
        let lower = Expression::parse("round(upper_threshold*0.7)").unwrap();
        // 15 x 0.7 = 10.5 -> 10; 25 x 0.7 = 17.5 -> 18; 21 x 0.7 = 14.7 -> 15; 11 x 0.7 = 7.7 -> 8.
        for (upper, expected) in [
            (15.0, 10.0),
            (25.0, 18.0),
            (21.0, 15.0),
            (11.0, 8.0),
            (34.0, 24.0),
        ] {
            assert_eq!(
                lower.number(&[("upper_threshold", upper)]),
                Ok(expected),
                "upper {upper}"
            );
        }
        assert_eq!(
            Expression::parse("round(2.5)").unwrap().number(&[]),
            Ok(2.0)
        );
        assert_eq!(
            Expression::parse("round(-0.5)").unwrap().number(&[]),
            Ok(-0.0)
        );
    }

    #[test]
    fn integer_literals_compare_and_divide_as_floats() {
        let none = Expression::parse("throttled_seconds==0").unwrap();
        assert_eq!(none.boolean(&[("throttled_seconds", 0.0)]), Ok(true));
        assert_eq!(none.boolean(&[("throttled_seconds", 0.5)]), Ok(false));
        let half = Expression::parse("upper_threshold/2").unwrap();
        assert_eq!(half.number(&[("upper_threshold", 25.0)]), Ok(12.5));
        assert_eq!(
            float_literals("p99_ms<250 && x==1.5 && y>1e3"),
            "p99_ms<250.0 && x==1.5 && y>1e3"
        );
    }

    #[test]
    fn length_and_nesting_are_bounded_and_the_worst_within_them_evaluates() {
        let deep = format!("{}max_cpu<50{}", "(".repeat(12_000), ")".repeat(12_000));
        let error = Expression::parse(&deep).unwrap_err();
        assert!(error.contains("more than 1000"), "{error}");
        let nested = |n: usize| format!("{}max_cpu<50{}", "(".repeat(n), ")".repeat(n));
        let error = Expression::parse(&nested(MAX_NESTING + 1)).unwrap_err();
        assert!(
            error.contains("nests parentheses more than 32 deep"),
            "{error}"
        );
        // The deepest and longest expressions allowed, on a thread with rayon's default stack
        // (2 MiB, where the sweep evaluates): each gives a value or an error, never an overflow.
        let worst = [
            nested(MAX_NESTING),
            format!("{}max_cpu", "-".repeat(MAX_EXPRESSION_LENGTH - 7)),
            format!("{}true", "!".repeat(MAX_EXPRESSION_LENGTH - 4)),
            format!("{}1", "1^".repeat((MAX_EXPRESSION_LENGTH - 1) / 2)),
            format!("{}1", "1+".repeat((MAX_EXPRESSION_LENGTH - 1) / 2)),
            format!(
                "{}1{}",
                "round(".repeat(MAX_NESTING),
                ")".repeat(MAX_NESTING)
            ),
        ];
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for text in &worst {
                    assert!(text.chars().count() <= MAX_EXPRESSION_LENGTH, "{text}");
                    if let Ok(expression) = Expression::parse(text) {
                        let _ = expression.number(&[("max_cpu", 1.0)]);
                        let _ = expression.boolean(&[("max_cpu", 1.0)]);
                    }
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    /// Pieces of expressions, the hostile ones included.
    fn token() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "(", ")", "max_cpu", "x", "1", "0.5", "1e308", "-", "+", "*", "/", "%", "^", "<", "==",
            "&&", "||", "!", "round(", "min(", "max(", ",", " ", "true", "\"s\"", ";", "a.b", "=",
            "0/0",
        ])
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 512,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Any text: a value or an error, never a panic or an overflow (the test thread's stack is
        /// the 2 MiB of rayon's); text beyond the bounds is refused before evalexpr reads it.
        #[test]
        fn any_expression_is_a_value_or_an_error(
            tokens in proptest::collection::vec(token(), 0..700),
            depth in proptest::prop_oneof![0usize..40, 0usize..20_000],
        ) {
            let text = format!("{}{}{}", "(".repeat(depth), tokens.concat(), ")".repeat(depth));
            match Expression::parse(&text) {
                Ok(expression) => {
                    proptest::prop_assert!(text.chars().count() <= MAX_EXPRESSION_LENGTH);
                    proptest::prop_assert!(depth <= MAX_NESTING);
                    let variables = [("max_cpu", 50.0), ("x", f64::NAN)];
                    let _ = expression.number(&variables);
                    let _ = expression.boolean(&variables);
                }
                Err(error) => proptest::prop_assert!(!error.is_empty()),
            }
        }
    }

    #[test]
    fn constraints_and_errors() {
        let constraint = Expression::parse("max_cpu<50 && scaling_events <= 10").unwrap();
        assert_eq!(
            constraint.boolean(&[("max_cpu", 49.9), ("scaling_events", 10.0)]),
            Ok(true)
        );
        assert_eq!(
            constraint.boolean(&[("max_cpu", 50.0), ("scaling_events", 1.0)]),
            Ok(false)
        );
        let mut names: Vec<&str> = constraint.variables().collect();
        names.sort();
        assert_eq!(names, ["max_cpu", "scaling_events"]);
        let dangling = Expression::parse("max_cpu <").and_then(|e| e.boolean(&[("max_cpu", 1.0)]));
        assert!(dangling.unwrap_err().contains("'max_cpu <'"));
        assert!(
            Expression::parse("(max_cpu")
                .unwrap_err()
                .contains("'(max_cpu'")
        );
        let unknown = constraint.boolean(&[("max_cpu", 1.0)]).unwrap_err();
        assert!(unknown.contains("scaling_events"), "{unknown}");
        assert!(
            Expression::parse("max_cpu + 1")
                .unwrap()
                .boolean(&[("max_cpu", 1.0)])
                .is_err()
        );
    }
}
