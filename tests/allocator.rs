//! The allocator's options (`src/allocator.rs`): set before mimalloc
//! starts, and still overridden by its environment variables. Read from
//! mimalloc's own listing of its options (`MIMALLOC_VERBOSE=1`).

mod common;

use common::{aims_command, root, stderr};

/// The value mimalloc reports for an option, from its verbose listing.
fn option(listing: &str, name: &str) -> Option<i64> {
    let line = listing.lines().find(|l| l.contains(&format!("option '{name}':")))?;
    line.split(':').nth(1)?.split_whitespace().next()?.parse().ok()
}

#[cfg(target_os = "linux")]
#[test]
fn freed_memory_is_kept_for_a_second_unless_the_environment_says_otherwise() {
    let out = aims_command(&["--version"], root()).env("MIMALLOC_VERBOSE", "1").output().expect("aims runs");
    let listing = stderr(&out);
    assert_eq!(option(&listing, "arena_eager_commit"), Some(0), "{listing}");
    assert_eq!(option(&listing, "purge_delay"), Some(1000), "{listing}");

    let out = aims_command(&["--version"], root())
        .env("MIMALLOC_VERBOSE", "1")
        .env("MIMALLOC_PURGE_DELAY", "25")
        .env("MIMALLOC_ARENA_EAGER_COMMIT", "1")
        .output()
        .expect("aims runs");
    let listing = stderr(&out);
    assert_eq!(option(&listing, "purge_delay"), Some(25), "{listing}");
    assert_eq!(option(&listing, "arena_eager_commit"), Some(1), "{listing}");
}
