//! The built `deckd` binary packs its relocations (DT_RELR) exactly when build.rs says
//! it should: a native build on glibc 2.36 or newer. Unpacked, the relocation table is
//! about 0.9 MB that stays resident in every running server.

use std::process::Command;

fn glibc_version() -> (u32, u32) {
    // SAFETY: gnu_get_libc_version returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version
        .to_str()
        .unwrap()
        .split('.')
        .map(|p| p.parse().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

#[test]
fn relocations_are_packed_where_the_c_library_can_load_them() {
    let out = Command::new("readelf")
        .args(["--dynamic", "--wide", env!("CARGO_BIN_EXE_deckd")])
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success(), "readelf failed: {out:?}");
    let dynamic = String::from_utf8_lossy(&out.stdout);
    let packed = dynamic.contains("(RELR)");
    // On x86-64 every linker deckd meets (rust-lld, GNU ld 2.38 and later) packs them;
    // the Debian 12 cross linkers for ARM ignore the flag, and build.rs does not give it
    // to a cross build anyway.
    if cfg!(target_arch = "x86_64") && glibc_version() >= (2, 36) {
        assert!(
            packed,
            "deckd has no DT_RELR entry on glibc {:?}:\n{dynamic}",
            glibc_version()
        );
    }
    if glibc_version() < (2, 36) {
        assert!(
            !packed,
            "deckd needs DT_RELR, which glibc {:?} cannot load",
            glibc_version()
        );
    }
}
