#!/usr/bin/env bash
# The `browser` stage of tests/run-all: the web console end to end in a real browser
# (tests/browser/README.md). Installs Debian's Chromium when it is missing (as root),
# the pinned npm packages from package-lock.json, builds target/ci/deckd when it is
# missing or older than the sources, then runs `node --test` in tests/browser.
# Screenshots and server logs land in tests/browser/results/.
#
# Settings: DECKD_BIN (the binary under test; not built then), CHROMIUM (default
# /usr/bin/chromium), CARGO_TARGET_DIR (default ./target).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
target=${CARGO_TARGET_DIR:-$repo/target}
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && [ "$chromium" = /usr/bin/chromium ]; then
        apt-get update -qq && apt-get install -y -qq chromium
    else
        echo "no Chromium at $chromium: apt-get install chromium (as root), or set CHROMIUM" >&2
        exit 1
    fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm are missing: Node.js 20 or newer is needed" >&2
    exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "Node.js $(node --version) is too old: playwright-core needs 20 or newer" >&2
    exit 1
fi

# The packages are installed under target/, not in tests/browser: .ci/hygiene runs
# ShellCheck on every script under tests/, and playwright-core ships shell scripts.
# tests/browser/node_modules is a link to them, so node resolves imports as usual.
deps=$target/browser-tests
mkdir -p "$deps"
cp tests/browser/package.json tests/browser/package-lock.json "$deps/"
(cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
link=tests/browser/node_modules
if [ -d "$link" ] && [ ! -L "$link" ]; then
    rm -rf "$link" # a plain `npm ci` made it here; the link replaces it
fi
ln -sfn "$deps/node_modules" "$link"

if [ -n "${DECKD_BIN:-}" ]; then
    bin=$DECKD_BIN
else
    bin=$target/ci/deckd
    if [ ! -x "$bin" ] || [ -n "$(find src templates migrations Cargo.toml Cargo.lock -newer "$bin" -print -quit)" ]; then
        cargo build --locked --profile ci
    fi
fi

cd tests/browser
DECKD_BIN=$bin CHROMIUM=$chromium node --test
