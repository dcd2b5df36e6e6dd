#!/usr/bin/env bash
# Builds the amd64 .deb with cargo-deb (installed on first use) and prints its path.
# arm64: .ci/aarch64-test packages its cross-built binary with `cargo deb --no-build --target`.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v cargo-deb >/dev/null 2>&1 && [[ ! -x $HOME/.cargo/bin/cargo-deb ]]; then
    echo "build-deb: installing cargo-deb" >&2
    cargo install cargo-deb --locked >&2
fi
export PATH=$HOME/.cargo/bin:$PATH
# cargo-deb runs `cargo build --release` itself; --locked keeps Cargo.lock as is.
cargo deb --locked "$@" >&2
ls -t target/debian/deckd_*.deb | head -1
