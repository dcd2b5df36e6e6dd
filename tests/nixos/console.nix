# The web console through the module's nginx virtual host, on a box without an account
# (no initialAdmin): STATUS says setup is pending, a browser's GET / lands on the
# console, the setup page carries deckd's own Content-Security-Policy and no second
# one from nginx, the hashed stylesheet keeps deckd's immutable caching, the event
# stream needs a session, the setup form (token from `deckd setup-token`) creates the
# administrator through nginx, and with that session the event stream opens and its
# keep-alive comment arrives while the answer is still open: nginx buffers nothing of
# it. While deckd is down, nginx's own error page gets nginx's CSP, once.
# Modelled on nixpkgs nixos/tests/nginx-*.nix (one machine, curl against localhost).
{ self, ... }:
{
  name = "deckd-console";

  nodes.server = {
    imports = [ (import ./_server.nix { inherit self; }) ];
    services.deckd.initialAdmin.enable = false;
  };

  testScript = ''
    def response(raw: str) -> tuple[str, dict[str, list[str]]]:
        """Status line and headers (lower-case names, every value) of `curl -D`."""
        lines = raw.replace("\r", "").strip().split("\n")
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        return lines[0], headers


    def get(path: str, extra: str = "") -> tuple[str, dict[str, list[str]]]:
        return response(server.succeed(f"curl -sS -D - -o /dev/null {extra} http://localhost{path}"))


    server.wait_for_unit("deckd.service")
    server.wait_for_unit("nginx.service")
    server.wait_for_open_port(80)

    with subtest("STATUS says setup is pending, without the token"):
        server.wait_until_succeeds(
            "systemctl show -p StatusText --value deckd | grep -q 'SETUP PENDING'", timeout=60
        )

    with subtest("a browser's GET / is sent to the console"):
        status, h = get("/")
        assert " 303" in status and h["location"] == ["/console"], (status, h)

    with subtest("the setup page, with deckd's CSP alone"):
        page = server.succeed("curl -sSf http://localhost/console/setup")
        assert "Set up this deckd box" in page, page[:300]
        status, h = get("/console/setup")
        assert " 200" in status, status
        csp = h.get("content-security-policy", [])
        assert len(csp) == 1 and "script-src 'self'" in csp[0], csp
        assert len(h.get("x-frame-options", [])) == 1, h
        assert h.get("referrer-policy") == ["same-origin"], h
        assert "permissions-policy" in h, h
        status, h = get("/console/setup", "-H 'Accept-Encoding: gzip'")
        assert h.get("content-encoding") == ["gzip"], h

    with subtest("the hashed stylesheet keeps deckd's immutable caching"):
        css = server.succeed(
            "curl -sSf http://localhost/console/setup | grep -o '/console/static/console\\.[0-9a-f]*\\.css' | head -1"
        ).strip()
        status, h = get(css)
        assert " 200" in status, (css, status)
        assert h.get("cache-control") == ["public, max-age=31536000, immutable"], h
        assert len(h.get("content-security-policy", [])) == 1, h

    with subtest("the event stream needs a session"):
        status, h = get("/console/events")
        assert " 303" in status and h["location"][0].startswith("/console/login"), (status, h)

    with subtest("setup through nginx with the token from deckd setup-token"):
        token = server.succeed("deckd setup-token").strip()
        # STATUS is readable by every local user: it never carries the token.
        assert token not in server.succeed("systemctl show -p StatusText --value deckd")
        status, h = response(
            server.succeed(
                "curl -sS -D - -o /dev/null -c /tmp/jar -H 'Sec-Fetch-Site: same-origin'"
                f" --data-urlencode token={token} --data-urlencode username=admin"
                " --data-urlencode password=console-admin-password http://localhost/console/setup"
            )
        )
        assert " 303" in status, (status, h)
        assert any(c.startswith("deckd_session=") for c in h.get("set-cookie", [])), h
        server.succeed("deckd user list | grep -w admin")

    with subtest("the event stream opens and streams through nginx"):
        server.succeed(
            "(curl -sS -N -m 60 -D /tmp/ev.h -o /tmp/ev.body -b /tmp/jar"
            " http://localhost/console/events >/dev/null 2>&1 & echo $! > /tmp/ev.pid)"
        )
        server.wait_until_succeeds("grep -q $'^\\r$' /tmp/ev.h", timeout=10)
        status, h = response(server.succeed("cat /tmp/ev.h"))
        assert " 200" in status and h["content-type"][0].startswith("text/event-stream"), (status, h)
        # deckd's keep-alive comment (every 15 s) is 3 bytes: it arrives only unbuffered.
        server.wait_until_succeeds("test -s /tmp/ev.body", timeout=30)
        assert server.succeed("head -c 1 /tmp/ev.body") in (":", "e")
        # ... and the answer is still open.
        server.succeed("kill -0 $(cat /tmp/ev.pid) && kill $(cat /tmp/ev.pid)")

    with subtest("STATUS no longer says setup is pending"):
        server.wait_until_succeeds(
            "systemctl show -p StatusText --value deckd | grep 'requests served' | grep -v 'SETUP PENDING'",
            timeout=60,
        )

    with subtest("nginx's own error page gets nginx's CSP, once"):
        server.succeed("systemctl stop deckd")
        status, h = get("/console/login")
        assert " 502" in status, status
        assert h.get("content-security-policy") == ["default-src 'none'; frame-ancestors 'none'"], h
        server.succeed("systemctl start deckd")
        server.wait_until_succeeds("curl -sf http://localhost/readyz", timeout=60)
  '';
}
