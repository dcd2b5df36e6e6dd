# A hung deckd is caught: SIGSTOP freezes the process, it stops sending WATCHDOG=1,
# systemd kills it after WatchdogSec (from dist/systemd/service-settings.toml) and
# Restart=on-failure brings it back, ready again behind nginx. Also: PID 1 drives the
# hardware watchdog (systemd.settings.Manager.RuntimeWatchdogSec, an i6300esb here,
# the BCM2835 watchdog on the Pi).
# Modelled on nixpkgs nixos/tests/systemd-oomd.nix (one machine, journal assertions).
{ self, ... }:
let
  unitSettings = builtins.fromTOML (builtins.readFile ../../dist/systemd/service-settings.toml);
  watchdogSec = unitSettings.Service.WatchdogSec;
in
{
  name = "deckd-watchdog";

  nodes.machine = {
    imports = [ (import ./_server.nix { inherit self; }) ];
    virtualisation.qemu.options = [ "-device i6300esb" ];
    boot.kernelModules = [ "i6300esb" ];
  };

  testScript = ''
    machine.wait_for_unit("deckd.service")
    machine.wait_for_open_port(80)
    machine.succeed("deckd healthcheck")

    with subtest("PID 1 arms the hardware watchdog"):
        out = machine.succeed("systemctl show -p RuntimeWatchdogUSec --value").strip()
        assert out == "15s", f"RuntimeWatchdogUSec={out}"

    with subtest("a frozen deckd is killed by the service watchdog and restarted"):
        expected = ${builtins.toJSON (toString watchdogSec)}
        expected = expected + "s" if expected.isdigit() else expected
        assert machine.succeed("systemctl show -p WatchdogUSec --value deckd").strip() == expected
        pid = machine.succeed("systemctl show -p MainPID --value deckd").strip()
        restarts = int(machine.succeed("systemctl show -p NRestarts --value deckd"))
        machine.succeed(f"kill -STOP {pid}")
        machine.fail("timeout 5 curl -sf http://localhost/readyz")
        machine.wait_until_succeeds("journalctl -u deckd.service | grep -i 'watchdog timeout'", timeout=180)
        machine.wait_until_succeeds(
            f"test \"$(systemctl show -p MainPID --value deckd)\" != {pid} && systemctl is-active deckd",
            timeout=180,
        )
        assert int(machine.succeed("systemctl show -p NRestarts --value deckd")) > restarts
        machine.wait_until_succeeds("deckd healthcheck", timeout=60)
        machine.wait_until_succeeds("curl -sf http://localhost/readyz", timeout=60)
  '';
}
