# The Raspberry Pi appliance (nixosConfigurations.pi, the SD image).
#
# Before building, add your SSH public key below (or in a module of your own): the
# image has no password for root.
#
# Backed by nixpkgs: nixos/modules/misc/nixpkgs.nix (nixpkgs.hostPlatform),
# nixos/modules/system/boot/loader/generic-extlinux-compatible/default.nix
# (configurationLimit), nixos/modules/system/boot/kernel.nix (boot.kernelModules),
# nixos/modules/misc/version.nix (system.stateVersion).
{ lib, ... }:
{
  imports = [
    ./common.nix
    ../images/sd-image.nix
  ];

  nixpkgs.hostPlatform = "aarch64-linux";

  users.users.root.openssh.authorizedKeys.keys = [
    # "ssh-ed25519 AAAA... you@laptop"
  ];

  # The SoC's watchdog (BCM2835/2711), driven by systemd.settings.Manager.RuntimeWatchdogSec.
  boot.kernelModules = [ "bcm2835_wdt" ];

  # Few generations in /boot on a small card.
  boot.loader.generic-extlinux-compatible.configurationLimit = lib.mkDefault 5;

  # The release the state on the card (/var/lib) was first created with; keep it
  # when updating nixpkgs.
  system.stateVersion = "26.05";
}
