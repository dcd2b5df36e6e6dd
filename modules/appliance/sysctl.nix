# Seed 000's kernel parameters: little swapping, early and small writeback bursts
# (kinder to SD cards), larger socket buffers for big deck uploads.
# Backed by nixpkgs: nixos/modules/config/sysctl.nix (boot.kernel.sysctl).
{ lib, ... }:
{
  boot.kernel.sysctl = lib.mapAttrs (_: lib.mkDefault) {
    "vm.swappiness" = 10;
    "vm.dirty_ratio" = 15;
    "vm.dirty_background_ratio" = 5;
    "net.core.rmem_max" = 16777216;
    "net.core.wmem_max" = 16777216;
  };
}
