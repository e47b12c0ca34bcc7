//! The process's allocator: mimalloc, with options that keep the peak
//! memory low without returning memory the next block will use again.
//!
//! A first evaluation of a large inventory makes and drops millions of
//! small values; glibc's allocator spent a sixth of it in bookkeeping.
//! mimalloc's defaults, though, commit whole arenas up front, which on
//! 100,000 systems raised the peak memory of `aims check` by about 15 %.
//! Freed pages are kept for [`FREED_MEMORY_KEPT_MS`] before they are
//! returned, so that the evaluation's outcomes take pages the facts'
//! reading freed (its records' text, the threads' buffers) rather than new
//! ones the kernel must fault in and zero. Kept 50 ms, the evaluation of
//! 100,000 systems faulted in pages for about a sixth of its time; kept a
//! second, `aims check`'s evaluation was 5–10 % faster in interleaved runs,
//! for 15–20 MiB (about 5 %) more at the peak. The language server, which
//! repeats the same work on every keystroke, gains most: memory returned
//! between two keystrokes had to be faulted in and zeroed again on the
//! next one.
//!
//! mimalloc reads its options once, while the process loads, before `main`
//! runs, so they are set by a function in the ELF `.init_array` with a
//! priority that runs it before mimalloc's own (unprioritised)
//! constructor. They are set as defaults: `MIMALLOC_ARENA_EAGER_COMMIT`
//! and `MIMALLOC_PURGE_DELAY` in the environment still override them.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc's `mi_option_t`.
#[cfg(target_os = "linux")]
const ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
/// `mi_option_purge_delay` in mimalloc's `mi_option_t`.
#[cfg(target_os = "linux")]
const PURGE_DELAY: std::ffi::c_int = 15;

#[cfg(target_os = "linux")]
extern "C" {
    // Part of mimalloc's public API (`mimalloc.h`), linked in by the
    // `mimalloc` crate.
    fn mi_option_set_default(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// How long freed memory is kept for reuse before it is returned to the
/// system (mimalloc's own default is 10 ms): longer than a first
/// evaluation of 100,000 systems, and than the pause between two
/// keystrokes in the language server.
#[cfg(target_os = "linux")]
const FREED_MEMORY_KEPT_MS: std::ffi::c_long = 1000;

#[cfg(target_os = "linux")]
extern "C" fn allocator_options() {
    // SAFETY: setting an option's default only writes mimalloc's static
    // option table; it allocates nothing and is valid before mimalloc is
    // initialised (it is ignored for an option already initialised).
    unsafe {
        mi_option_set_default(ARENA_EAGER_COMMIT, 0);
        mi_option_set_default(PURGE_DELAY, FREED_MEMORY_KEPT_MS);
    }
}

/// Runs [`allocator_options`] before mimalloc's constructor: the linker
/// orders `.init_array.NNNNN` sections by priority, before the plain
/// `.init_array` that holds mimalloc's.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array.00200"]
static ALLOCATOR_OPTIONS: extern "C" fn() = allocator_options;
