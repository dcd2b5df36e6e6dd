# Shared by the VM tests: the appliance host as the Pi runs it (nixos/common.nix with
# the deckd and appliance modules), sized like a Pi 3. Not a test itself (leading `_`).
{ self }:
{ lib, pkgs, ... }:
{
  imports = [
    self.nixosModules.default
    ../../nixos/common.nix
  ];

  # No mDNS on the test network (tests/nixos/mdns.nix forces it on).
  services.avahi.enable = false;

  # The tests that need an account get it from initialAdmin (its one-time password in
  # the journal); console.nix and console-banner.nix switch it off to set up in the
  # browser as the appliance does.
  services.deckd.initialAdmin.enable = lib.mkDefault true;

  virtualisation = {
    memorySize = 1024;
    cores = 2;
  };

  environment.systemPackages = [ pkgs.curl pkgs.sqlite ];
}
