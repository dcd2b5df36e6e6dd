#!/usr/bin/env bash
# Builds the amd64 .deb with cargo-deb (installed on first use) and prints its path.
# DECKD_DEB_BINARY=path packages an already-built deckd binary instead of building the
# fat-LTO release one (CI reuses the `ci`-profile binary the Rust stage built).
# arm64 and armhf: .ci/aarch64-test and .ci/armhf-test package their cross-built binaries
# with `cargo deb --no-build --target`.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v cargo-deb >/dev/null 2>&1 && [[ ! -x $HOME/.cargo/bin/cargo-deb ]]; then
    echo "build-deb: installing cargo-deb" >&2
    cargo install cargo-deb --locked >&2
fi
export PATH=$HOME/.cargo/bin:$PATH
if [[ -n ${DECKD_DEB_BINARY:-} ]]; then
    [[ -x $DECKD_DEB_BINARY ]] || { echo "build-deb: $DECKD_DEB_BINARY is not an executable" >&2; exit 1; }
    # cargo-deb takes target/release/deckd from CARGO_TARGET_DIR; a separate one keeps a
    # developer's real release build untouched.
    out=$PWD/target/deb-prebuilt
    mkdir -p "$out/release" "$out/debian"
    cp "$DECKD_DEB_BINARY" "$out/release/deckd"
    CARGO_TARGET_DIR=$out cargo deb --locked --no-build --output "$out/debian/deckd_amd64.deb" >&2
    echo "$out/debian/deckd_amd64.deb"
    exit 0
fi
# cargo-deb runs `cargo build --release` itself; --locked keeps Cargo.lock as is.
cargo deb --locked "$@" >&2
# shellcheck disable=SC2012  # the newest of our own package files
ls -t target/debian/deckd_*.deb | head -1
