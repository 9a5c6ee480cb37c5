//! Whether the real-plan corpus is there, decided when the tests are built (see
//! `tests/corpus/mod.rs`): the `wild_plans` cfg when `SCALELAB_WILD_PLANS` is set, the default
//! folder exists or `CI=true`. Without it the corpus tests are listed as ignored, with the reason.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wild_plans)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=SCALELAB_WILD_PLANS");
    println!("cargo::rerun-if-env-changed=CI");
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/plans-in-the-wild");
    if default.is_dir() {
        // Cargo re-runs this when a file in it changes, or when it is gone.
        println!("cargo::rerun-if-changed={}", default.display());
    }
    let named = std::env::var_os("SCALELAB_WILD_PLANS").is_some();
    let ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
    if named || ci || default.is_dir() {
        println!("cargo::rustc-cfg=wild_plans");
    }
}
