# Shared by the VM tests: the appliance host as the Pi runs it (nixos/common.nix with
# the deckd and appliance modules), sized like a Pi 3. Not a test itself (leading `_`).
{ self }:
{ pkgs, ... }:
{
  imports = [
    self.nixosModules.default
    ../../nixos/common.nix
  ];

  # No mDNS on the test network.
  services.avahi.enable = false;

  virtualisation = {
    memorySize = 1024;
    cores = 2;
  };

  environment.systemPackages = [ pkgs.curl pkgs.sqlite ];
}
