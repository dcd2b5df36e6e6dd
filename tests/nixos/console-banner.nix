# The banner on the box's screen (modules/deckd/console-banner.nix, on in the appliance):
# tty1 shows http://<host>.local/ and, while no account exists, the setup token that
# `deckd setup-token` prints; the file behind it is root's alone (another local user
# cannot read it) and the journal does not carry it; once the administrator is made
# through the console the token leaves the banner and the screen, and the timer stops.
# Modelled on nixpkgs nixos/tests/login.nix (wait_until_tty_matches on tty1).
{ self, ... }:
{
  name = "deckd-console-banner";

  nodes.machine = {
    imports = [ (import ./_server.nix { inherit self; }) ];
    services.deckd.initialAdmin.enable = false;
    users.users.alice.isNormalUser = true;
  };

  testScript = ''
    machine.wait_for_unit("deckd.service")
    machine.wait_for_unit("nginx.service")
    machine.wait_for_open_port(80)
    machine.wait_until_succeeds("deckd setup-token", timeout=60)
    token = machine.succeed("deckd setup-token").strip()
    banner = "/run/deckd-banner/deckd.issue"

    with subtest("tty1 shows the URL and the setup token"):
        machine.wait_until_succeeds(f"grep -q {token} {banner}", timeout=60)
        machine.wait_for_unit("getty@tty1.service")
        machine.wait_until_tty_matches("1", "http://machine\\.local/")
        machine.wait_until_tty_matches("1", token)

    with subtest("only root reads the banner; the journal does not carry it"):
        machine.succeed("test $(stat -c %a:%U /run/deckd-banner) = 700:root")
        machine.succeed(f"test $(stat -c %a:%U {banner}) = 600:root")
        machine.fail(f"runuser -u alice -- cat {banner}")
        machine.fail(f"journalctl -u deckd-console-banner.service | grep -q {token}")

    with subtest("the administrator made in the browser: the token goes"):
        code = machine.succeed(
            "curl -sS -o /dev/null -w '%{http_code}' -H 'Sec-Fetch-Site: same-origin' "
            f"--data-urlencode token={token} --data-urlencode username=admin "
            "--data-urlencode password=admin-password-1 http://localhost/console/setup"
        )
        assert code == "303", code
        machine.wait_until_succeeds(f"! grep -q {token} {banner}", timeout=60)
        machine.succeed(f"grep -q 'http://machine.local/' {banner}")
        machine.wait_until_fails("systemctl is-active deckd-console-banner.timer", timeout=60)
        machine.wait_until_tty_matches("1", "login:")
        assert token not in machine.get_tty_text("1"), "the token is still on tty1"
  '';
}
