# Two users, end to end, from a client machine through nginx, the way the add-on talks
# to a Pi: alice publishes a deck with an image, bob subscribes, pulls it and downloads
# the image (served by nginx from the state directory), bob suggests a fix, the admin
# approves it with `deckd review approve`, bob's next pull has it. Also: a 13 MB body
# passes nginx, and the first account comes from services.deckd.initialAdmin.
# Modelled on nixpkgs nixos/tests/atuin.nix (server + client nodes).
{ self, pkgs, ... }:
let
  alicePassword = "alice-correct-horse";
  bobPassword = "bob-battery-staple";
in
{
  name = "deckd-end-to-end";

  nodes.server = {
    imports = [ (import ./_server.nix { inherit self; }) ];
    services.deckd.initialAdmin = {
      enable = true;
      name = "alice";
      passwordFile = pkgs.writeText "alice-password" alicePassword;
    };
  };

  nodes.client = {
    imports = [ ./_client.nix ];
    virtualisation.memorySize = 1024;
  };

  testScript = ''
    import json

    start_all()

    server.wait_for_unit("deckd.service")
    server.wait_for_unit("nginx.service")
    server.wait_for_open_port(80)

    with subtest("the first account comes from initialAdmin, once"):
        server.succeed("systemctl is-active deckd-initial-admin.service")
        server.succeed("deckd user list | grep -w alice")
        server.succeed("systemctl restart deckd-initial-admin.service")
        server.succeed("journalctl -u deckd-initial-admin | grep 'already has accounts'")

    server.succeed("echo ${bobPassword} | deckd user add bob")
    server.succeed("deckd healthcheck")

    client.wait_for_unit("multi-user.target")
    c = "ALICE_PASSWORD=${alicePassword} BOB_PASSWORD=${bobPassword} deckd-client"
    state = "http://server /tmp/deckd-client.json"

    with subtest("alice publishes a deck with media"):
        client.succeed(f"{c} publish {state}")
        server.wait_until_succeeds("test -f /var/lib/deckd/media/9d/9d3f217f6cfaad7f9d3786af47422d59", timeout=60)
        # nginx, in the deckd group, can read what it serves.
        server.succeed("runuser -u nginx -- cat /var/lib/deckd/media/9d/9d3f217f6cfaad7f9d3786af47422d59 > /dev/null")

    with subtest("bob subscribes, pulls and downloads the image through nginx"):
        client.succeed(f"{c} subscribe {state}")

    with subtest("a body over nginx's 10 MB default reaches deckd"):
        client.succeed(f"{c} big-body {state}")

    with subtest("bob suggests, the admin approves on the server, bob pulls the fix"):
        client.succeed(f"{c} suggest {state}")
        pending = json.loads(server.succeed("deckd review list --json"))
        assert len(pending) == 1, pending
        server.succeed(f"deckd review approve {pending[0]['id']}")
        client.succeed(f"{c} pull-approved {state}")

    with subtest("security headers on API answers"):
        headers = client.succeed("curl -sS -D - -o /dev/null http://server/healthz")
        for h in ["X-Content-Type-Options: nosniff", "X-Frame-Options: DENY", "Referrer-Policy: no-referrer"]:
            assert h.lower() in headers.lower(), f"{h} missing in {headers}"
  '';
}
