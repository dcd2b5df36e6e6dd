# The group's Anki sync server (services.deckd.ankiSync) behind deckd's nginx: from a
# client machine, /anki-sync/health answers, a sync login (Anki's hostKey request) with
# a password read from a root-only file returns a host key through nginx, a wrong
# password is refused with 403, and the server itself is not reachable except through
# nginx (bound to loopback). deckd's console still answers next to it.
{ self, pkgs, ... }:
let
  password = pkgs.writeText "anki-sync-member-password" "member-sync-password-1";
in
{
  name = "deckd-anki-sync";

  nodes.server = {
    imports = [ (import ./_server.nix { inherit self; }) ];
    services.deckd.ankiSync = {
      enable = true;
      users = [{ username = "member"; passwordFile = "${password}"; }];
    };
  };

  nodes.client = { pkgs, ... }: {
    environment.systemPackages = [
      pkgs.curl
      (pkgs.writeShellScriptBin "anki-login" ''
        exec ${pkgs.python3.withPackages (ps: [ ps.zstandard ])}/bin/python3 ${./_anki_login.py} "$@"
      '')
    ];
  };

  testScript = ''
    start_all()
    server.wait_for_unit("deckd.service")
    server.wait_for_unit("anki-sync-server.service")
    server.wait_for_unit("nginx.service")
    server.wait_for_open_port(27701)
    server.wait_for_open_port(80)
    client.wait_for_unit("multi-user.target")

    with subtest("the sync server answers under /anki-sync/"):
        client.wait_until_succeeds("curl -sSf http://server/anki-sync/health", timeout=60)

    with subtest("a sync login through nginx gets a host key"):
        out = client.succeed("anki-login http://server/anki-sync/ member member-sync-password-1")
        status, key = out.split()
        assert status == "200" and len(key) >= 20, out

    with subtest("a wrong password is refused"):
        out = client.succeed("anki-login http://server/anki-sync/ member wrong-password")
        assert out.startswith("403"), out

    with subtest("only nginx reaches the sync server"):
        client.fail("curl -sS -m 5 http://server:27701/health")

    with subtest("deckd still answers next to it"):
        client.succeed("curl -sSf http://server/readyz")
  '';
}
