//! The HTML report of a real run, opened in headless Chromium (Debian's `chromium`, installed by
//! `.ci/install-packages`; ignored, with the reason, when it is missing outside CI). Chromium's DOM holds every
//! chart with its data, and its screenshot shows each chart's lines painted in their colours.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Chromium's flags for a headless, offline, throw-away profile.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
];

/// Debian's Chromium: the build script (`build.rs`) looks for it there.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs Chromium on `page` with `args`, giving up after a minute.
fn chromium(page: &Path, args: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{CHROMIUM} does not start ({e}): run .ci/install-packages to install it")
        });
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A two-second ramp over a fast, a slow and a missing endpoint (so there are 200s and 404s).
fn real_run(dir: &Path) -> PathBuf {
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  mix:\n    executor: ramping-vus\n    startVUs: 1\n    stages: [{duration: 1s, target: 4}, {duration: 1s, target: 2}]\n    requests:\n      - {name: ping, path: /ping}\n      - {name: slow, path: /timeout?ms=20}\n      - {name: missing, path: /missing}\n",
    )
    .unwrap();
    let out = dir.join("results");
    let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .arg("run")
        .arg(&plan)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.join("report.html").exists(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.join("report.html")
}

/// The `points` of the polyline of `series` in the chart titled `chart`, from the DOM.
fn series_points(dom: &str, chart: &str, series: &str) -> Vec<(f64, f64)> {
    let section = dom
        .split("<section class=\"panel\">")
        .find(|s| s.contains(&format!("<h3>{chart}</h3>")))
        .unwrap_or_else(|| panic!("no chart '{chart}' in the DOM"));
    let line = section
        .split("<polyline ")
        .skip(1)
        .find(|l| l.contains(&format!("data-series=\"{series}\"")))
        .unwrap_or_else(|| panic!("no series '{series}' in chart '{chart}'"));
    let points = line
        .split(" points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    points
        .split_whitespace()
        .map(|pair| {
            let (x, y) = pair.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// Pixels of the screenshot within a small distance of `color` (`#rrggbb`).
fn pixels_of(image: &[u8], channels: usize, color: &str) -> usize {
    let hex = |i: usize| i32::from_str_radix(&color[i..i + 2], 16).unwrap();
    let (r, g, b) = (hex(1), hex(3), hex(5));
    image
        .chunks_exact(channels)
        .filter(|p| {
            let d = (p[0] as i32 - r).abs() + (p[1] as i32 - g).abs() + (p[2] as i32 - b).abs();
            d < 40
        })
        .count()
}

#[test]
#[cfg_attr(
    not(chromium),
    ignore = "no /usr/bin/chromium: run .ci/install-packages"
)]
fn chromium_renders_the_charts_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let report = real_run(dir.path());
    let html = std::fs::read_to_string(&report).unwrap();
    for fetch in ["src=", "href=", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(fetch), "the report must not fetch: {fetch}");
    }

    let dom = String::from_utf8(chromium(&report, &["--dump-dom".into()]).stdout).unwrap();
    assert!(dom.contains("<h1>scalelab report</h1>"), "{dom}");
    let baseline = 240.0 - 30.0;
    // The ramp keeps 1 to 4 VUs busy through seconds 0 and 1, each picking /ping, /slow and
    // /missing alike: both whole seconds have 200s, 404s and a latency. The VU gauge is read at a
    // second's end, and at the end of second 1 the ramp is over, so only second 0's VUs are sure.
    for (chart, series, busy_seconds) in [
        ("Requests per second by status", "200", 2),
        ("Requests per second by status", "404", 2),
        ("Latency", "p95", 2),
        ("Virtual users", "VUs", 1),
        ("Failed requests per second by cause", "HTTP 404", 2),
    ] {
        let mut points = series_points(&dom, chart, series);
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(points.len() >= 2, "{chart} / {series}: {points:?}");
        assert!(
            points[..busy_seconds]
                .iter()
                .all(|&(_, y)| y < baseline - 1.0),
            "{chart} / {series}: the first {busy_seconds} second(s) are above zero: {points:?}"
        );
    }
    assert!(
        dom.contains("<td>GET missing</td><td>404</td>"),
        "endpoint table"
    );

    let screenshot = dir.path().join("report.png");
    chromium(
        &report,
        &[
            "--window-size=1000,2600".into(),
            format!("--screenshot={}", screenshot.display()),
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&screenshot).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut image = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut image).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    // Each line is about 900 pixels long and 2 wide; its legend swatch is only 56 pixels.
    for (series, color) in [
        ("200 requests/s", "#2ca02c"),
        ("p50", "#1f77b4"),
        ("p95", "#ff7f0e"),
        ("VUs", "#17becf"),
        ("HTTP 404 failures", "#e6a100"),
    ] {
        let painted = pixels_of(&image[..info.buffer_size()], channels, color);
        assert!(
            painted > 400,
            "{series}: {painted} pixels of {color} in the screenshot"
        );
    }
}
