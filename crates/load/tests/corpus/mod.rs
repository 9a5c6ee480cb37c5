//! Where the real-plan corpus is: the folder named by `SCALELAB_WILD_PLANS`, by default
//! `../shared/plans-in-the-wild` beside the repository. The corpus is optional for a clone on its
//! own: the build script (`build.rs`) sets the `wild_plans` cfg when the corpus is there, when
//! the variable is set or under `CI=true`; without it the corpus tests are ignored with the reason.
//! A test that runs (`--include-ignored` included) fails when the corpus is missing.

use std::path::PathBuf;

/// The corpus folder; panics, naming where it looked, when it is not there.
pub fn dir() -> PathBuf {
    let dir = match std::env::var_os("SCALELAB_WILD_PLANS") {
        Some(named) => PathBuf::from(named),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/plans-in-the-wild"),
    };
    assert!(
        dir.is_dir(),
        "the real-plan corpus is not at {}: set SCALELAB_WILD_PLANS to its folder",
        dir.display()
    );
    dir
}
