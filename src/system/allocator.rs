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

/// The glibc tunable that turns off the per-thread caches of freed blocks.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const NO_THREAD_CACHE: &str = "glibc.malloc.tcache_count=0";

/// Restarts the server's process image with glibc's per-thread caches of freed blocks
/// turned off, unless the environment already chooses a cache size. Each long-lived
/// thread keeps up to seven freed blocks of every small size, scattered over pages that
/// no trim can then return: after a few thousand console pages that pinned about 1.3 MB
/// on an idle server. Tunables are read only at process start, hence the exec, which
/// keeps the process id, open descriptors and arguments. Returns only if exec failed.
pub fn restart_without_thread_caches() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: getauxval only reads the auxiliary vector the kernel passed at exec.
        let secure = unsafe { libc::getauxval(libc::AT_SECURE) } != 0;
        // A setuid or file-capability start ignores tunables: restarting would loop.
        if secure {
            return;
        }
        let current = match std::env::var_os("GLIBC_TUNABLES").map(|v| v.into_string()) {
            None => String::new(),
            Some(Ok(value)) if !value.contains("glibc.malloc.tcache_count=") => value,
            // The cache size is chosen already, or the setting is not text to extend.
            Some(_) => return,
        };
        let tunables = if current.is_empty() {
            NO_THREAD_CACHE.to_string()
        } else {
            format!("{current}:{NO_THREAD_CACHE}")
        };
        if let Err(err) = exec_self_with_tunables(&tunables) {
            eprintln!("deckd: running with glibc's thread caches on (restart failed: {err})");
        }
    }
}

/// Execs the running binary again with the same arguments and `GLIBC_TUNABLES` set.
/// A plain execve: where the kernel cannot run the file itself (a foreign binary under an
/// emulator without binfmt), it fails instead of handing the file to a shell.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exec_self_with_tunables(tunables: &str) -> Result<(), String> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStringExt;
    let c = |bytes: Vec<u8>| CString::new(bytes).map_err(|e| e.to_string());
    // By path rather than /proc/self/exe, which would rename the process to "exe".
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let exe = c(exe.into_os_string().into_vec())?;
    let args = std::env::args_os()
        .map(|a| c(a.into_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut env = std::env::vars_os()
        .filter(|(k, _)| k != "GLIBC_TUNABLES")
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            c(kv)
        })
        .collect::<Result<Vec<_>, _>>()?;
    env.push(c(format!("GLIBC_TUNABLES={tunables}").into_bytes())?);
    let err = nix::unistd::execve(&exe, &args, &env).unwrap_err();
    Err(err.to_string())
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
