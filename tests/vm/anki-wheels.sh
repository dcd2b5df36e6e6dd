#!/usr/bin/env bash
# Installs the `anki` package from PyPI (the library behind desktop Anki and its
# `python -m anki.syncserver`) for the guest's Python 3.11 into a cached directory,
# for PYTHONPATH in the guest, and prints that directory. Wheels only: nothing is
# compiled, and the host's own Python may differ from the guest's.
set -euo pipefail
CACHE=${DECKD_VM_CACHE:-/var/cache/deckd-vm}
VERSION=${DECKD_VM_ANKI_VERSION:-24.11}
dest=$CACHE/anki-py311-$VERSION
if [[ -f $dest/.complete ]]; then
    echo "$dest"
    exit 0
fi
tmp=$dest.tmp-$$
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "anki-wheels: pip install anki==$VERSION for cp311 into $dest" >&2
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$tmp" --only-binary=:all: --python-version 3.11 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    "anki==$VERSION" >&2
touch "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"
