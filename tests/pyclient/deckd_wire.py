"""The AnkiCollab wire protocol as the VM tests speak it (stdlib only).

Shared by the NixOS VM tests' client (tests/nixos/_client.py) and the Debian VM
suite's client (tests/vm/deckd_client.py): the demo deck of docs/protocol.md section 9,
GZB64 bodies and a tiny HTTP client that never raises on an HTTP status.
"""

import base64
import gzip
import json
import urllib.error
import urllib.request

DEMO_UUID = "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002"
DEMO_HASH = "hot-zulu-indigo-eighteen-sad-alanine"
MODEL_UUID = "0b7e3f4a-9c1d-11ee-8c90-0242ac120002"
FIRST_PULL_TS = "2022-12-31 23:59:59"

# docs/protocol.md 9.1: red1x1.png, 69 bytes.
RED_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC"
)
RED_MD5 = "9d3f217f6cfaad7f9d3786af47422d59"
RED_CONTENT_MD5 = "nT8hf2z6rX+dN4avR0ItWQ=="


def note_model():
    field = {"collapsed": False, "description": "", "excludeFromSearch": False, "font": "Arial",
             "plainText": False, "preventDeletion": False, "rtl": False, "size": 20,
             "sticky": False, "tag": None}
    return {
        "__type__": "NoteModel", "crowdanki_uuid": MODEL_UUID,
        "css": ".card { font-family: arial; font-size: 20px; text-align: center; }",
        "flds": [dict(field, id=-5032847290344123456, name="Front", ord=0),
                 dict(field, id=4470161023957123456, name="Back", ord=1)],
        "id": 1718899990000, "latexPost": "\\end{document}",
        "latexPre": "\\documentclass[12pt]{article}\n\\begin{document}\n", "latexsvg": False,
        "name": "Basic (demo)", "originalStockKind": 1, "req": [[0, "any", [0]]], "sortf": 0,
        "tags": [],
        "tmpls": [{"afmt": "{{FrontSide}}<hr id=answer>{{Back}}", "bafmt": "", "bfont": "",
                   "bqfmt": "", "bsize": 0, "did": None, "id": -2961478839101123456,
                   "name": "Card 1", "ord": 0, "qfmt": "{{Front}}"}],
        "type": 0, "vers": [],
    }


def note(guid, nid, fields, tags):
    return {"__type__": "Note", "fields": fields, "guid": guid, "id": nid,
            "note_model_uuid": MODEL_UUID, "tags": tags}


def deck(name=None, uuid=None, notes=None):
    """docs/protocol.md 9.3, the tiny demo deck (or a variant with other name/uuid/notes)."""
    return {
        "__type__": "Deck", "_field_mappings": {}, "children": [],
        "crowdanki_uuid": uuid or DEMO_UUID,
        "deck_configurations": [{"__type__": "DeckConfig",
                                 "crowdanki_uuid": "c5d1e2f3-3b4a-11ef-9a7c-0242ac120002",
                                 "id": 1, "name": "Default", "new": {"perDay": 20},
                                 "rev": {"perDay": 200}}],
        "desc": "Tiny demo deck", "dyn": 0, "extendNew": 0, "extendRev": 0, "id": 1718899999000,
        "keep_empty_subdecks": False, "name": name or "Demo Deck",
        "note_models": [note_model()],
        "notes": notes if notes is not None else [
            note("AbCdEf1234", 1718900000001, ["What is the capital of France?", "Paris"], ["geo"]),
            note("XyZ9876543", 1718900000002, ["Which colour is this?", '<img src="red1x1.png">'],
                 ["colours", "geo"]),
        ],
        "root_deck_id": None,
    }


def plugin_deck_string(d):
    """The deck JSON string inside a /createDeck envelope, written like the add-on."""
    return json.dumps(d, indent=4, sort_keys=True)


def gzb64(value):
    """GZB64 = base64(gzip(json)), JSON written like the add-on (ASCII escapes)."""
    return base64.b64encode(gzip.compress(json.dumps(value).encode(), mtime=0)).decode()


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

    def expect(self, status, what):
        """Exits with a FAIL line on stderr unless the status is `status`."""
        if self.status != status:
            raise SystemExit(f"FAIL: {what}: expected {status}, got {self.status}: {self.text[:400]}")
        return self


def request(method, url, body=None, token=None, headers=None, timeout=120, ctype=None):
    """One HTTP request; dicts and lists go as JSON, strings as text/plain."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if isinstance(body, (dict, list)):
        body, ctype = json.dumps(body).encode(), "application/json"
    elif isinstance(body, str):
        body, ctype = body.encode(), ctype or "text/plain"
    if ctype and "Content-Type" not in h:
        h["Content-Type"] = ctype
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())
