# A power cut loses nothing that was acknowledged: while a client publishes decks as
# fast as it can (logging each 2xx, fsynced), the server is cut off with
# machine.crash(). After it boots again the SQLite file passes integrity_check and
# every acknowledged deck is there and pulls whole.
{ self, ... }:
let
  alicePassword = "alice-correct-horse";
in
{
  name = "deckd-power-cut";

  nodes.server = {
    imports = [ (import ./_server.nix { inherit self; }) ];
  };

  nodes.client = {
    imports = [ ./_client.nix ];
  };

  testScript = ''
    start_all()
    server.wait_for_unit("deckd.service")
    server.wait_for_open_port(80)
    server.succeed("echo ${alicePassword} | deckd user add alice")

    client.wait_for_unit("multi-user.target")
    c = "ALICE_PASSWORD=${alicePassword} deckd-client"

    with subtest("power cut during acknowledged writes"):
        client.succeed(f"{c} burst http://server /tmp/state.json 100000 /tmp/acked > /tmp/burst.log 2>&1 &")
        client.wait_until_succeeds("test \"$(wc -l < /tmp/acked)\" -ge 25", timeout=300)
        server.crash()
        client.succeed("pkill -f _client.py || true")
        acked = int(client.succeed("wc -l < /tmp/acked"))
        print(f"{acked} writes were acknowledged before the power cut")

    with subtest("after reboot: integrity and presence"):
        server.start()
        server.wait_for_unit("deckd.service")
        server.wait_for_open_port(80)
        server.succeed("systemctl stop deckd.service")
        out = server.succeed("runuser -u deckd -- sqlite3 /var/lib/deckd/deckd.sqlite3 'PRAGMA integrity_check;'")
        assert out.strip() == "ok", out
        server.succeed("systemctl start deckd.service")
        server.wait_for_unit("deckd.service")
        client.succeed(f"{c} check-present http://server /tmp/state.json /tmp/acked")
  '';
}
