//! Whether the browser test can run, decided when the tests are built: the `chromium` cfg when
//! Debian's Chromium is installed (`/usr/bin/chromium`) or `CI=true` (`.ci/install-packages`
//! installs it). Without it `cargo test` lists the test as ignored, with the reason.

use std::path::Path;

const CHROMIUM: &str = "/usr/bin/chromium";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(chromium)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    let installed = Path::new(CHROMIUM).exists();
    if installed {
        // Cargo re-runs this when it changes, or when it is gone.
        println!("cargo::rerun-if-changed={CHROMIUM}");
    }
    if installed || std::env::var("CI").is_ok_and(|ci| ci == "true") {
        println!("cargo::rustc-cfg=chromium");
    }
}
