# The hardware watchdog: PID 1 pets it every RuntimeWatchdogSec/2; if the kernel or
# systemd hangs the board resets. The Pi's BCM2835/2711 watchdog counts at most ~15 s
# (its 20-bit counter at 65536 ticks a second; bcm2835_wdt's max_timeout), and the
# kernel refuses a longer timeout, so both values stay at 15 s: a larger
# RebootWatchdogSec (systemd's default is 10 min) would not be set and the reboot
# would run under whatever timeout the device last had.
# Backed by nixpkgs: nixos/modules/system/boot/systemd.nix (systemd.settings.Manager,
# a freeform system.conf section; the old systemd.watchdog.runtimeTime and
# .rebootTime are renamed aliases of these keys).
{ lib, ... }:
{
  systemd.settings.Manager = {
    RuntimeWatchdogSec = lib.mkDefault "15s";
    # A reboot that hangs (e.g. on a stuck card) is forced after 15 s. This stage comes
    # after every service has stopped (systemd arms it in systemd-shutdown, before
    # the final unmount and sync), so deckd has closed its database by then; and
    # deckd's SQLite commits are durable at fsync, so a reset during the final sync
    # loses no acknowledged write (the power-cut tests cut harder than that).
    RebootWatchdogSec = lib.mkDefault "15s";
  };
}
