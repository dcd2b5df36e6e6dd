#!/usr/bin/env python3
"""Tiny AnkiCollab-protocol client for the deckd VM suite (stdlib only).

Runs inside the guest (add-on flow through nginx) and on the host (power-cut
writer through the forwarded port). Bodies are built as in tests/support (fixtures.rs,
wire.rs) and docs/protocol.md §9.

    deckd_client.py flow BASE_URL            add-on flow; prints PASS/FAIL lines
    deckd_client.py writer BASE_URL USER PW OUT   publish decks until killed,
                                                  appending each acknowledged hash to OUT
    deckd_client.py alive BASE_URL FILE      exit 0 if every hash in FILE exists
"""
import gzip
import hashlib
import json
import sys
import time
import uuid

from deckd_wire import DEMO_HASH, FIRST_PULL_TS, RED_CONTENT_MD5, RED_MD5, RED_PNG, deck, gzb64, note, request, ungzb64


def login(base, user, pw):
    r = request("POST", base + "/login", {"username": user, "password": pw})
    if r.status != 200:
        raise RuntimeError(f"login {user}: {r.status} {r.text[:200]}")
    return r.json()["token"]


# --------------------------------------------------------------------------- flow
def flow(base):
    """The add-on's publish/subscribe/pull/media flow; PASS/FAIL line per step."""
    ok = True

    def check(name, cond, why=""):
        nonlocal ok
        print(f"PASS {name}" if cond else f"FAIL {name}: {why}", flush=True)
        ok = ok and bool(cond)
        return cond

    alice = login(base, "alice", "alice-password-1")
    bob = login(base, "bob", "bob-password-1")
    r = request("POST", base + "/CheckUserToken", token=alice)
    check("flow-check-token", r.status == 200 and r.text == "true", f"{r.status} {r.text[:100]}")

    r = request("POST", base + "/createDeck", gzb64({"deck": json.dumps(deck())}), token=alice)
    body = r.json() if r.status == 200 else {}
    check("flow-create-deck", body.get("status") == 1 and body.get("message") == DEMO_HASH,
          f"{r.status} {r.text[:200]}")
    bulk_id = body.get("bulk_operation_id", "")

    # Media upload (§9.4).
    r = request("POST", base + "/media/check/bulk", {
        "deck_hash": DEMO_HASH, "bulk_operation_id": bulk_id,
        "files": [{"hash": RED_MD5, "filename": "red1x1.png", "note_guid": "XyZ9876543", "file_size": 69}]},
        token=alice)
    missing = r.json().get("missing_files", []) if r.status == 200 else []
    batch_id = r.json().get("batch_id", "") if r.status == 200 else ""
    if check("media-check-bulk", len(missing) == 1 and missing[0].get("upload_url"), f"{r.status} {r.text[:200]}"):
        up = missing[0]["upload_url"]
        r = request("PUT", up, RED_PNG, token=alice, ctype="image/png",
                    headers={"Content-MD5": RED_CONTENT_MD5})
        check("media-upload", r.status == 200, f"{r.status} {r.text[:200]} ({up})")
        batch = request("POST", base + "/media/confirm/bulk", {
            "batch_id": batch_id,
            "confirmed_files": [RED_MD5], "bulk_operation_id": bulk_id}, token=alice)
        check("media-confirm", batch.status == 200, f"{batch.status} {batch.text[:200]}")

    # Subscribe and pull (§9.5), with gzip from nginx.
    r = request("POST", base + "/AddSubscription", {"deck_hash": DEMO_HASH}, token=bob)
    check("flow-subscribe", r.status == 200, f"{r.status} {r.text[:200]}")
    pull_body = {DEMO_HASH: {"timestamp": FIRST_PULL_TS, "deckId": 0, "optional_tags": {},
                             "personal_tags": ["leech", "marked", "missing-media"]}}
    r = request("POST", base + "/pullChanges", pull_body, headers={"Accept-Encoding": "gzip"})
    enc = r.headers.get("Content-Encoding", "")
    check("nginx-gzip", r.status == 200 and enc == "gzip", f"{r.status} Content-Encoding={enc!r}")
    try:
        text = gzip.decompress(r.body).decode() if enc == "gzip" else r.text
        entries = ungzb64(text)
        notes = entries[0]["deck"]["notes"]
        check("flow-pull", len(entries) == 1 and entries[0]["deck_hash"] == DEMO_HASH and
              sorted(n["guid"] for n in notes) == ["AbCdEf1234", "XyZ9876543"], json.dumps(entries)[:200])
    except Exception as e:  # noqa: BLE001
        check("flow-pull", False, f"{r.status} {e}: {r.body[:200]!r}")
    hdr = r.headers.get("X-Content-Type-Options", "")
    check("nginx-security-headers", hdr == "nosniff" and r.headers.get("X-Frame-Options") == "DENY",
          f"X-Content-Type-Options={hdr!r} X-Frame-Options={r.headers.get('X-Frame-Options')!r}")

    # Media download through nginx's internal location (§9.5).
    r = request("POST", base + "/media/manifest", {"deck_hash": DEMO_HASH, "filenames": ["red1x1.png"]}, token=bob)
    files = r.json().get("files", []) if r.status == 200 else []
    if check("media-manifest", len(files) == 1, f"{r.status} {r.text[:200]}"):
        url = files[0]["download_url"]
        r = request("GET", url, token=bob)
        check("media-download", r.status == 200 and hashlib.md5(r.body).hexdigest() == RED_MD5,
              f"{r.status} {len(r.body)} bytes from {url}")
        cc = r.headers.get_all("Cache-Control") or []
        check("media-cache-headers", cc == ["public, max-age=31536000, immutable"], f"Cache-Control headers: {cc!r}")
        r = request("GET", url, token=bob, headers={"Range": "bytes=0-9"})
        check("media-range", r.status == 206 and r.body == RED_PNG[:10],
              f"{r.status} Content-Range={r.headers.get('Content-Range')!r} {len(r.body)} bytes")
    return ok


# --------------------------------------------------------------------------- power cut
def writer(base, user, pw, out):
    """Publishes small decks forever; records a hash only after its 2xx arrived."""
    token = None
    n = 0
    with open(out, "a", buffering=1) as f:
        while True:
            try:
                if token is None:
                    token = login(base, user, pw)
                u = str(uuid.uuid4())
                d = deck("Powercut " + u, u, [note(u[:10], 1718900000001, ["q " + u, "a"], ["geo"])])
                r = request("POST", base + "/createDeck", gzb64({"deck": json.dumps(d)}), token=token, timeout=20)
                if 200 <= r.status < 300:
                    b = r.json()
                    if b.get("status") == 1:
                        f.write(b["message"] + "\n")
                        n += 1
            except Exception:  # noqa: BLE001 - the VM dies under us on purpose
                time.sleep(0.2)


def alive(base, path):
    hashes = [h.strip() for h in open(path) if h.strip()]
    missing = []
    for i in range(0, len(hashes), 40):
        r = request("POST", base + "/CheckDeckAlive", {"deck_hashes": hashes[i:i + 40]})
        if r.status != 200:
            print(f"CheckDeckAlive: {r.status} {r.text[:200]}")
            return 2
        missing += r.json()
    print(f"{len(hashes)} acknowledged, {len(missing)} missing {missing[:5]}")
    return 1 if missing else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "flow":
        sys.exit(0 if flow(sys.argv[2]) else 1)
    elif cmd == "writer":
        writer(*sys.argv[2:6])
    elif cmd == "alive":
        sys.exit(alive(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(f"unknown command {cmd}")
