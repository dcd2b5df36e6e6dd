#!/usr/bin/env python3
"""An Anki client signing in to a self-hosted sync server and syncing once.

Uses the `anki` package from PyPI, the same library desktop Anki syncs with:
Collection.sync_login posts the sync protocol's hostKey request to ENDPOINT and
returns the session key; sync_collection then runs a real (empty) collection sync.
A wrong password must be refused. Prints one line and exits 0 on success.

    anki_sync_login.py ENDPOINT USER PASSWORD
"""
import os
import sys
import tempfile

from anki.collection import Collection
from anki.errors import SyncError


def main():
    endpoint, user, password = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(os.path.join(tmp, "collection.anki2"))
        try:
            auth = col.sync_login(user, password, endpoint)
            if not auth.hkey:
                print("login answered without a session key", file=sys.stderr)
                return 1
            out = col.sync_collection(auth, False)
            try:
                col.sync_login(user, password + "-wrong", endpoint)
                print("a wrong password was accepted", file=sys.stderr)
                return 1
            except SyncError:
                pass
            print(f"logged in through {endpoint}, sync answered required={out.required}")
            return 0
        finally:
            col.close()


if __name__ == "__main__":
    sys.exit(main())
