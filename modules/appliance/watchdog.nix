# The hardware watchdog: PID 1 pets it every RuntimeWatchdogSec/2; if the kernel or
# systemd hangs the board resets. The Pi's BCM2835 watchdog counts at most ~15 s in
# hardware; since Linux 6.8 the watchdog core bridges longer timeouts for it (the
# RebootWatchdogSec below), older kernels reject anything above 15 s with EINVAL.
# Backed by nixpkgs: nixos/modules/system/boot/systemd.nix (systemd.settings.Manager,
# a freeform system.conf section; the old systemd.watchdog.runtimeTime and
# .rebootTime are renamed aliases of these keys).
{ lib, ... }:
{
  systemd.settings.Manager = {
    RuntimeWatchdogSec = lib.mkDefault "15s";
    # A reboot that hangs (e.g. on a stuck card) is forced after 30 s.
    RebootWatchdogSec = lib.mkDefault "30s";
  };
}
