//! glibc allocator settings for a long-running process on a small board: freed memory
//! goes back to the system instead of staying in RSS after a big publish.

/// Keeps glibc from retaining freed memory: a fixed mmap threshold keeps big blocks (an
/// argon2 hash needs 19 MiB) mmapped so they are unmapped when freed, and two arenas
/// instead of one per thread stop each blocking thread from keeping its own heap.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands freed heap pages back to the system, after work that built a large tree
/// (a deck of tens of thousands of notes) so RSS falls back to its idle size.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; it never touches live allocations.
    unsafe {
        libc::malloc_trim(0);
    }
}
