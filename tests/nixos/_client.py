#!/usr/bin/env python3
"""A small AnkiCollab add-on stand-in for the NixOS VM tests (stdlib only).

It speaks the wire protocol of docs/protocol.md section 9 over HTTP, the way the add-on
does, and keeps what later steps need (tokens, deck hash, sync timestamps) in a JSON
state file, so the test script can interleave client steps with admin commands on the
server:

    deckd-client publish        BASE STATE   alice publishes the demo deck and its image
    deckd-client subscribe      BASE STATE   bob subscribes, pulls it and downloads the image
    deckd-client big-body       BASE STATE   a 13 MB upload passes nginx (no 413)
    deckd-client suggest        BASE STATE   bob suggests a fix (not visible before review)
    deckd-client pull-approved  BASE STATE   after approval bob's pull has only the fix
    deckd-client burst          BASE STATE N ACKED   alice publishes N decks, logging each 2xx
    deckd-client check-present  BASE STATE ACKED     every acknowledged deck exists and pulls

Passwords come from the environment: ALICE_PASSWORD, BOB_PASSWORD.
Exit status 0 means every assertion held.
"""

import base64
import email.utils
import hashlib
import json
import os
import sys
import time

from deckd_wire import (FIRST_PULL_TS, RED_CONTENT_MD5, RED_MD5, RED_PNG, deck, gzb64, note,
                        plugin_deck_string, request, ungzb64)

PERSONAL_TAGS = ["leech", "marked", "missing-media"]
NEW_BACK = "Paris (capital since 987)"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)



class Client:
    def __init__(self, base, state_path):
        self.base = base.rstrip("/")
        self.state_path = state_path
        self.state = {}
        if os.path.exists(state_path):
            with open(state_path) as f:
                self.state = json.load(f)

    def save(self):
        with open(self.state_path, "w") as f:
            json.dump(self.state, f)

    def post_json(self, path, value, token=None):
        return request("POST", self.base + path, json.dumps(value), token,
                       {"Content-Type": "application/json"})

    def post_gzb64(self, path, value, token):
        return request("POST", self.base + path, gzb64(value), token,
                       {"Content-Type": "text/plain"})

    def login(self, who):
        password = os.environ[f"{who.upper()}_PASSWORD"]
        r = self.post_json("/login", {"username": who, "password": password}).expect(200, f"login {who}")
        token = r.json()["token"]
        check(self.post_json("/CheckUserToken", {}, token).text.strip() == "true",
              f"/CheckUserToken true for {who}")
        self.state[f"{who}_token"] = token
        return token

    def token(self, who):
        return self.state.get(f"{who}_token") or self.login(who)

    def pull(self, deck_hash, ts):
        value = {"timestamp": ts, "deckId": 0, "optional_tags": {}, "personal_tags": PERSONAL_TAGS}
        r = self.post_json("/pullChanges", {deck_hash: value}).expect(200, "/pullChanges")
        out = ungzb64(r.text)
        check(isinstance(out, list), f"/pullChanges answers an array: {out!r}")
        return out

    def sync_point(self):
        """A timestamp T (server clock, whole second) such that every write finished
        before this call has last_update <= T and every later write is after T."""
        r = request("GET", self.base + "/healthz")
        server_now = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
        t = int(server_now) + 1
        time.sleep(1.3)
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))

    def publish(self, d, token):
        r = self.post_gzb64("/createDeck", {"deck": plugin_deck_string(d)}, token)
        r.expect(200, f"/createDeck {d['name']}")
        ans = r.json()
        check(ans.get("status") == 1, f"/createDeck status 1: {ans}")
        return ans["message"], ans.get("bulk_operation_id", "")


def all_notes(node):
    out = list(node.get("notes", []))
    for c in node.get("children", []):
        out += all_notes(c)
    return out


def cmd_publish(c):
    alice = c.login("alice")
    deck_hash, bulk = c.publish(deck(), alice)
    c.state["hash"] = deck_hash
    # Media (docs/protocol.md 9.4): check, PUT to the server-issued URL, confirm.
    files = [{"hash": RED_MD5, "filename": "red1x1.png", "note_guid": "XyZ9876543", "file_size": len(RED_PNG)}]
    r = c.post_json("/media/check/bulk", {"deck_hash": deck_hash, "files": files,
                                          "bulk_operation_id": bulk}, alice)
    ans = r.expect(200, "/media/check/bulk").json()
    missing = ans["missing_files"]
    check(len(missing) == 1 and missing[0]["hash"] == RED_MD5, f"red1x1.png is missing: {ans}")
    url = missing[0].get("upload_url") or missing[0].get("presigned_url")
    r = request("PUT", url, RED_PNG, alice, {"Content-Type": "image/png", "Content-MD5": RED_CONTENT_MD5})
    check(200 <= r.status < 300, f"media PUT through nginx: {r.status} {r.text[:300]}")
    r = c.post_json("/media/confirm/bulk", {"batch_id": ans["batch_id"], "confirmed_files": [RED_MD5],
                                            "bulk_operation_id": bulk}, alice)
    r.expect(200, "/media/confirm/bulk")
    c.save()
    print(f"published {deck_hash} with red1x1.png")


def cmd_subscribe(c):
    bob = c.login("bob")
    deck_hash = c.state["hash"]
    r = c.post_json("/CheckDeckAlive", {"deck_hashes": [deck_hash, "gone-deck-hash"]})
    check(r.expect(200, "/CheckDeckAlive").json() == ["gone-deck-hash"], f"/CheckDeckAlive: {r.text}")
    c.post_json("/AddSubscription", {"deck_hash": deck_hash}, bob).expect(200, "/AddSubscription")
    pulled = c.pull(deck_hash, FIRST_PULL_TS)
    check(len(pulled) == 1 and pulled[0]["deck_hash"] == deck_hash, f"one entry for the deck: {pulled}")
    notes = {n["guid"]: n for n in all_notes(pulled[0]["deck"])}
    check(set(notes) == {"AbCdEf1234", "XyZ9876543"}, f"both notes pulled: {sorted(notes)}")
    check(notes["AbCdEf1234"]["fields"] == ["What is the capital of France?", "Paris"], "note fields")
    check(isinstance(pulled[0]["deck"]["note_models"], list), "note_models is an array")

    # Media after install (docs/protocol.md 9.5); confirmation may finish in the background.
    deadline = time.time() + 60
    while True:
        r = c.post_json("/media/manifest", {"deck_hash": deck_hash, "filenames": ["red1x1.png"]}, bob)
        files = r.json().get("files", []) if r.status == 200 else []
        if files or time.time() > deadline:
            break
        time.sleep(1)
    check(len(files) == 1 and files[0]["filename"] == "red1x1.png", f"/media/manifest: {r.status} {r.text}")
    r = request("GET", files[0]["download_url"], None, bob)
    check(r.status == 200, f"media download: {r.status} {r.text[:200]}")
    check(hashlib.md5(r.body).hexdigest() == RED_MD5, "downloaded bytes have the right MD5")
    # Served by nginx from the state directory (X-Accel-Redirect): one immutable
    # Cache-Control from the internal location (two would leave caches guessing).
    cache = r.headers.get_all("Cache-Control") or []
    check(cache == ["public, max-age=31536000, immutable"], f"one immutable Cache-Control: {cache!r}")
    check(r.headers.get("X-Content-Type-Options") == "nosniff", "security headers on media")
    c.state["synced"] = c.sync_point()
    c.save()
    print("bob pulled the deck and its image")


def cmd_big_body(c):
    """A body larger than nginx's 10 MB default reaches deckd (which judges it), not a 413."""
    alice = c.token("alice")
    junk = base64.b64encode(os.urandom(12 * 1024 * 1024)).decode()
    d = deck(name="Big Deck", uuid="0dd0dd0d-3b4a-11ef-9a7c-0242ac120002",
             notes=[note("BigNote0001", 1718900000099, ["big", junk], [])])
    body = gzb64({"deck": plugin_deck_string(d)})
    check(len(body) > 11 * 1024 * 1024, f"body is bigger than nginx's default: {len(body)}")
    r = request("POST", c.base + "/createDeck", body, alice, {"Content-Type": "text/plain"}, timeout=600)
    check(r.status not in (413, 502, 504), f"{len(body)} bytes pass nginx: {r.status} {r.text[:200]}")
    print(f"big body ({len(body)} bytes) answered {r.status} by deckd")


def cmd_suggest(c):
    bob = c.token("bob")
    deck_hash = c.state["hash"]
    d = deck(notes=[note("AbCdEf1234", 1718900000001, ["What is the capital of France?", NEW_BACK], ["geo"])])
    body = {"remote_deck": deck_hash, "deck_path": "Demo Deck", "new_name": "Demo Deck",
            "deck": plugin_deck_string(d), "rationale": 2, "commit_text": "More precise answer",
            "force_overwrite": False}
    r = c.post_gzb64("/submitCard", body, bob).expect(200, "/submitCard")
    check(r.text == "Success", f"/submitCard answers Success: {r.text}")
    check(c.pull(deck_hash, c.state["synced"]) == [], "an unreviewed suggestion is not pulled")
    print("bob suggested a fix")


def cmd_pull_approved(c):
    deck_hash = c.state["hash"]
    pulled = c.pull(deck_hash, c.state["synced"])
    check(len(pulled) == 1, f"one entry after approval: {pulled}")
    notes = all_notes(pulled[0]["deck"])
    check(len(notes) == 1 and notes[0]["guid"] == "AbCdEf1234", f"only the changed note: {notes}")
    check(notes[0]["fields"] == ["What is the capital of France?", NEW_BACK], f"fields: {notes[0]}")
    check(pulled[0]["deleted_notes"] == [], "no deleted notes")
    later = c.sync_point()
    check(c.pull(deck_hash, later) == [], "up to date afterwards")
    r = request("GET", c.base + "/GetNotifications", None, c.token("bob"))
    check(r.expect(200, "/GetNotifications").json()["unread_count"] == 1, f"bob is notified: {r.text}")
    print("bob pulled the approved fix")


def cmd_burst(c, count, acked_path):
    """Publishes `count` decks; appends each acknowledged hash to acked_path (fsynced
    before the next request), so a power cut can be checked against what was promised."""
    alice = c.login("alice")
    c.save()
    acked = 0
    with open(acked_path, "a") as out:
        for i in range(count):
            d = deck(name=f"Burst {i:04d}", uuid=f"b0000000-0000-4000-8000-{i:012d}",
                     notes=[note(f"Burst{i:06d}", 1719000000000 + i, [f"question {i}", f"answer {i}"], [])])
            try:
                r = request("POST", c.base + "/createDeck", gzb64({"deck": plugin_deck_string(d)}), alice,
                            {"Content-Type": "text/plain"}, timeout=10)
            except OSError as e:
                print(f"burst {i}: {e}", file=sys.stderr)
                time.sleep(0.2)
                continue
            if r.status == 200 and r.json().get("status") == 1:
                out.write(r.json()["message"] + "\n")
                out.flush()
                os.fsync(out.fileno())
                acked += 1
    print(f"burst: {acked} of {count} acknowledged")


def cmd_check_present(c, acked_path):
    with open(acked_path) as f:
        hashes = [line.strip() for line in f if line.strip()]
    check(hashes, "some writes were acknowledged before the power cut")
    for i in range(0, len(hashes), 100):
        r = c.post_json("/CheckDeckAlive", {"deck_hashes": hashes[i:i + 100]}).expect(200, "/CheckDeckAlive")
        check(r.json() == [], f"every acknowledged deck survived the power cut; lost: {r.json()}")
    for h in hashes:
        pulled = c.pull(h, FIRST_PULL_TS)
        check(len(pulled) == 1 and len(all_notes(pulled[0]["deck"])) == 1, f"deck {h} pulls whole")
    print(f"all {len(hashes)} acknowledged decks are present and whole")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, base, state = argv[0], argv[1], argv[2]
    c = Client(base, state)
    if cmd == "publish":
        cmd_publish(c)
    elif cmd == "subscribe":
        cmd_subscribe(c)
    elif cmd == "big-body":
        cmd_big_body(c)
    elif cmd == "suggest":
        cmd_suggest(c)
    elif cmd == "pull-approved":
        cmd_pull_approved(c)
    elif cmd == "burst":
        cmd_burst(c, int(argv[3]), argv[4])
    elif cmd == "check-present":
        cmd_check_present(c, argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
