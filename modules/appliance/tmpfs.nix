# /tmp in RAM (seed 004): scratch files never touch the card.
# Backed by nixpkgs: nixos/modules/system/boot/tmp.nix (boot.tmp.useTmpfs,
# boot.tmp.tmpfsSize; the old boot.tmpOnTmpfs names are renamed aliases).
{ lib, ... }:
{
  boot.tmp = {
    useTmpfs = lib.mkDefault true;
    # A quarter of the RAM: 256 MB on a 1 GB Pi 3. Large local Nix builds need more
    # (build elsewhere and copy, or raise this).
    tmpfsSize = lib.mkDefault "25%";
  };
}
