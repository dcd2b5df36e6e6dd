"""Anki's sync login (POST <endpoint>sync/hostKey), as desktop Anki sends it.

The request carries its metadata in the `anki-sync` header (protocol version 11, no
session yet) and a zstd-compressed JSON body {"u": user, "p": password}; the answer is
zstd-compressed JSON {"key": <host key>}, or 403 for a wrong password. Used by
anki-sync.nix; the Debian VM suite signs in with the real `anki` library instead.

    _anki_login.py ENDPOINT USER PASSWORD    -> prints the status and the key (or body)
"""
import json
import sys
import urllib.error
import urllib.request

import zstandard


def login(endpoint, user, password):
    body = zstandard.ZstdCompressor().compress(json.dumps({"u": user, "p": password}).encode())
    request = urllib.request.Request(
        endpoint + "sync/hostKey",
        data=body,
        method="POST",
        headers={
            "anki-sync": json.dumps({"v": 11, "k": "", "c": "deckd-test,0,linux", "s": ""}),
            "Content-Type": "application/octet-stream",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            data = zstandard.ZstdDecompressor().decompressobj().decompress(answer.read())
            return answer.status, json.loads(data).get("key", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read()[:200].decode(errors="replace")


if __name__ == "__main__":
    status, key = login(*sys.argv[1:4])
    print(status, key)
