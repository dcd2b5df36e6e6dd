# No emergency shell on a box without a screen: when a mount fails, keep booting so
# that SSH and deckd come up and the problem can be seen remotely.
# Backed by nixpkgs: nixos/modules/system/boot/emergency-mode.nix
# (systemd.enableEmergencyMode).
{ lib, ... }:
{
  systemd.enableEmergencyMode = lib.mkDefault false;
}
