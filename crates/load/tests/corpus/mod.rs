//! Where the real-plan corpus is: the folder named by `SCALELAB_WILD_PLANS`, by default
//! `../shared/plans-in-the-wild` beside the repository. The corpus is optional for a clone on its
//! own: without the variable and without the default folder, the corpus tests say they were skipped
//! and why. When the variable is set (as `.ci/run` does), a missing folder fails the test.

use std::path::PathBuf;

/// The corpus folder, or `None` (after saying so on stderr) when the tests must skip.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os("SCALELAB_WILD_PLANS") {
        Some(named) => {
            let dir = PathBuf::from(named);
            assert!(
                dir.is_dir(),
                "SCALELAB_WILD_PLANS names {}, which is not a folder",
                dir.display()
            );
            Some(dir)
        }
        None => {
            let dir =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/plans-in-the-wild");
            if dir.is_dir() {
                Some(dir)
            } else {
                eprintln!(
                    "skipped: the real-plan corpus is not at {} and SCALELAB_WILD_PLANS is unset",
                    dir.display()
                );
                None
            }
        }
    }
}
