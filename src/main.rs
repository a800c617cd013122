//! The `pagegrant` binary: tune the allocator, parse the command line and
//! hand over to `cli`.

fn main() -> std::process::ExitCode {
    // Before anything allocates or spawns a thread: every password check
    // (login, `user add`) has argon2 allocate its 19 MiB working memory.
    return_big_allocations_to_the_os();
    pagegrant::cli::main()
}

/// Makes large allocations (argon2's 19 MiB working memory, one block per
/// password check) come from `mmap` and go back to the OS when freed. glibc
/// otherwise raises its mmap threshold after the first such free and keeps
/// every blocking thread's 19 MiB in that thread's arena: 2 GiB of RSS after
/// a burst of logins. A fixed threshold of 1 MiB also turns off that dynamic
/// adjustment. Process-wide allocator tuning belongs to the binary, not the
/// library: the tests and other embedders keep their own allocator settings.
fn return_big_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes no pointers and only changes a glibc allocator
    // tunable; it runs first in `main`, while the process has one thread, so
    // no allocation races with the change.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        // Fixing the mmap threshold also leaves the trim threshold at its
        // 128 KiB floor: a page of tens of KiB (the consent page, a search
        // answer) freed at the top of the heap had the heap shrunk, and the
        // next request faulted the same pages back in (8 % of a consent
        // view). Up to 4 MiB of free heap top is kept instead.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
    }
}
