//! Build steps cargo cannot infer: rebuilding when a migration is added, and packing the
//! binary's relocations where the C library that will load it understands them.

fn main() {
    // `sqlx::migrate!` embeds the folder's files at compile time, and cargo does not
    // otherwise notice a new file there.
    println!("cargo:rerun-if-changed=migrations");
    pack_relative_relocations();
}

/// A position-independent binary carries one 24-byte record per pointer it must fix up
/// at start (about 36,000 in deckd, 0.9 MB that stays resident); DT_RELR packs them into
/// a bitmap of a few kilobytes. glibc loads such a binary from 2.36 on, so the flag is
/// given only for a native build on a glibc that new, where the binary runs against the
/// C library it was linked with; a package built this way needs that glibc too (the
/// amd64 .deb depends on libc6 2.36, docs/debian.md). Cross builds and older systems
/// link as before, and a linker without the feature ignores it with a warning.
fn pack_relative_relocations() {
    let var = |key: &str| std::env::var(key).unwrap_or_default();
    let native_gnu_linux = var("TARGET") == var("HOST")
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if native_gnu_linux && glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The running C library's version (the build host's, which a native build links against).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_at_least(major: u32, minor: u32) -> bool {
    // SAFETY: gnu_get_libc_version returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version
        .to_str()
        .unwrap_or_default()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_at_least(_major: u32, _minor: u32) -> bool {
    false
}
