//! `--junit FILE` after a real run: the file parses as XML, has a test case per threshold condition
//! and per check, and failures exactly where the run failed, with the observed values.

use std::process::{Command, Stdio};

use quick_xml::Reader;
use quick_xml::events::Event;

/// A `<testcase>`: its class name, name, and failure message if it failed.
#[derive(Debug, PartialEq)]
struct Case {
    classname: String,
    name: String,
    failure: Option<String>,
}

fn attribute(element: &quick_xml::events::BytesStart<'_>, name: &str) -> String {
    element
        .try_get_attribute(name)
        .unwrap()
        .unwrap_or_else(|| panic!("attribute {name}"))
        .normalized_value(quick_xml::XmlVersion::Explicit1_0)
        .unwrap()
        .into_owned()
}

fn parse(xml: &str) -> (String, Vec<Case>) {
    let mut reader = Reader::from_str(xml);
    let mut suite = String::new();
    let mut cases: Vec<Case> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().into_inner() {
                "testsuite" => {
                    suite = format!(
                        "tests={} failures={}",
                        attribute(&e, "tests"),
                        attribute(&e, "failures")
                    )
                }
                "testcase" => cases.push(Case {
                    classname: attribute(&e, "classname"),
                    name: attribute(&e, "name"),
                    failure: None,
                }),
                "failure" => {
                    cases.last_mut().expect("failure inside a testcase").failure =
                        Some(attribute(&e, "message"))
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (suite, cases)
}

#[test]
fn thresholds_and_checks_become_test_cases_with_failures() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  mix:\n    executor: per-vu-iterations\n    vus: 2\n    iterations: 10\n    flow:\n      - {name: ping, path: /ping, checks: {status: 200}}\n      - {name: missing, path: /missing, checks: {status: 200}}\nthresholds:\n  http_req_failed: [\"rate<0.01\"]\n  http_req_duration: [\"p(95)<5000\"]\n",
    )
    .unwrap();
    let junit = dir.path().join("ci").join("junit.xml");
    let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .arg("run")
        .arg(&plan)
        .arg("--quiet")
        .arg("--junit")
        .arg(&junit)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(99),
        "/missing answers 404, so http_req_failed fails: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let (suite, cases) = parse(&xml);
    assert_eq!(suite, "tests=4 failures=2", "{xml}");
    let observed = |case: &Case| -> f64 {
        let message = case.failure.as_deref().expect("a failure");
        let value = message.strip_prefix("observed ").unwrap();
        value.split_whitespace().next().unwrap().parse().unwrap()
    };
    assert_eq!(cases.len(), 4, "{xml}");
    // The run itself answered and ran to its end: its case passes.
    assert_eq!(
        cases[0],
        Case {
            classname: "run".into(),
            name: "the run".into(),
            failure: None
        }
    );
    let cases = &cases[1..];
    assert_eq!(
        (cases[0].classname.as_str(), cases[0].name.as_str()),
        ("thresholds", "http_req_failed rate<0.01")
    );
    let failed_rate = observed(&cases[0]);
    // 2 VUs × 10 iterations of /ping then /missing: 20 of the 40 requests got 404.
    assert_eq!(failed_rate, 0.5);
    assert_eq!(
        cases[1],
        Case {
            classname: "thresholds".into(),
            name: "http_req_duration p(95)<5000".into(),
            failure: None
        }
    );
    assert_eq!(
        (cases[2].classname.as_str(), cases[2].name.as_str()),
        ("checks", "status is 200")
    );
    let message = cases[2]
        .failure
        .as_deref()
        .expect("the 404s failed the check");
    assert_eq!(message, "20 of 40 failed");
}

#[test]
fn a_run_nothing_answered_fails_with_its_own_code_and_test_case() {
    // A closed port: every connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ping", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["quick", &url, "-c", "2", "-n", "20", "--quiet", "--junit"])
        .arg(&junit)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(111),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(
            "nothing answered: none of 20 requests got a response (connection_refused 20)"
        ),
        "{stdout}"
    );
    // Throughput counts answers: none.
    assert!(stdout.contains("0.0 responses/s avg"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let (suite, cases) = parse(&xml);
    assert_eq!(suite, "tests=1 failures=1", "{xml}");
    assert_eq!(
        cases[0].failure.as_deref(),
        Some(
            "nothing answered: none of 20 requests got a response (connection_refused 20); \
             these figures measure no server"
        ),
        "{xml}"
    );
}
