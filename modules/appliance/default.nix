# The appliance profile: OS tuning for a small always-on box that boots from an SD
# card (seeds 000 and 004). One concern per file; every value is a mkDefault so a host
# can override it.
{
  imports = [
    ./sysctl.nix
    ./tmpfs.nix
    ./journald.nix
    ./zram.nix
    ./fs.nix
    ./watchdog.nix
    ./headless.nix
    ./nix-gc.nix
    ./minimal.nix
    ./mdns.nix
  ];
}
