#!/usr/bin/env python3
"""Tiny AnkiCollab-protocol client for the deckd VM suite (stdlib only).

Runs inside the guest (add-on flow through nginx) and on the host (power-cut
writer through the forwarded port). Bodies are built as in tests/common/mod.rs and
/work/shared/PROTOCOL.md §9.

    deckd_client.py flow BASE_URL            add-on flow; prints PASS/FAIL lines
    deckd_client.py writer BASE_URL USER PW OUT   publish decks until killed,
                                                  appending each acknowledged hash to OUT
    deckd_client.py alive BASE_URL FILE      exit 0 if every hash in FILE exists
"""
import base64
import gzip
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

DEMO_HASH = "hot-zulu-indigo-eighteen-sad-alanine"
MODEL_UUID = "0b7e3f4a-9c1d-11ee-8c90-0242ac120002"
RED_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC")
RED_MD5 = "9d3f217f6cfaad7f9d3786af47422d59"
FIRST_PULL_TS = "2022-12-31 23:59:59"


def note_model():
    fld = lambda name, ord_, id_: {  # noqa: E731
        "collapsed": False, "description": "", "excludeFromSearch": False, "font": "Arial", "id": id_,
        "name": name, "ord": ord_, "plainText": False, "preventDeletion": False, "rtl": False,
        "size": 20, "sticky": False, "tag": None}
    return {
        "__type__": "NoteModel", "crowdanki_uuid": MODEL_UUID,
        "css": ".card { font-family: arial; font-size: 20px; text-align: center; }",
        "flds": [fld("Front", 0, -5032847290344123456), fld("Back", 1, 4470161023957123456)],
        "id": 1718899990000, "latexPost": "\\end{document}",
        "latexPre": "\\documentclass[12pt]{article}\n\\begin{document}\n", "latexsvg": False,
        "name": "Basic (demo)", "originalStockKind": 1, "req": [[0, "any", [0]]], "sortf": 0, "tags": [],
        "tmpls": [{"afmt": "{{FrontSide}}<hr id=answer>{{Back}}", "bafmt": "", "bfont": "", "bqfmt": "",
                   "bsize": 0, "did": None, "id": -2961478839101123456, "name": "Card 1", "ord": 0,
                   "qfmt": "{{Front}}"}],
        "type": 0, "vers": []}


def deck(name, root_uuid, notes):
    return {
        "__type__": "Deck", "_field_mappings": {}, "children": [], "crowdanki_uuid": root_uuid,
        "deck_configurations": [{"__type__": "DeckConfig", "crowdanki_uuid": "c5d1e2f3-3b4a-11ef-9a7c-0242ac120002",
                                 "id": 1, "name": "Default", "new": {"perDay": 20}, "rev": {"perDay": 200}}],
        "desc": "Tiny demo deck", "dyn": 0, "extendNew": 0, "extendRev": 0, "id": 1718899999000,
        "keep_empty_subdecks": False, "name": name, "note_models": [note_model()],
        "notes": [{"__type__": "Note", "fields": list(f), "guid": g, "id": 1718900000001 + i,
                   "note_model_uuid": MODEL_UUID, "tags": ["geo"]} for i, (g, f) in enumerate(notes)],
        "root_deck_id": None}


def tiny_deck():
    d = deck("Demo Deck", "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002",
             [("AbCdEf1234", ["What is the capital of France?", "Paris"]),
              ("XyZ9876543", ["Which colour is this?", '<img src="red1x1.png">'])])
    d["notes"][1]["tags"] = ["colours", "geo"]
    return d


def gzb64(obj):
    return base64.b64encode(gzip.compress(json.dumps(obj).encode(), mtime=0)).decode()


def ungzb64(text):
    return json.loads(gzip.decompress(base64.b64decode(text.strip())))


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def request(method, url, body=None, token=None, ctype=None, headers=None, timeout=60):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body, ctype = json.dumps(body).encode(), "application/json"
    elif isinstance(body, str):
        body, ctype = body.encode(), ctype or "text/plain"
    if ctype:
        h["Content-Type"] = ctype
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


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

    r = request("POST", base + "/createDeck", gzb64({"deck": json.dumps(tiny_deck())}), token=alice)
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
                    headers={"Content-MD5": base64.b64encode(hashlib.md5(RED_PNG).digest()).decode()})
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
        cc = r.headers.get("Cache-Control", "")
        check("media-cache-headers", "immutable" in cc and "max-age=31536000" in cc and r.headers.get("Expires"),
              f"Cache-Control={cc!r} Expires={r.headers.get('Expires')!r}")
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
                d = deck("Powercut " + u, u, [(u[:10], ["q " + u, "a"])])
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
