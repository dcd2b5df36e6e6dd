# Compressed swap in RAM instead of a swap file or partition on the card.
# Backed by nixpkgs: nixos/modules/config/zram.nix (zramSwap.*) and
# nixos/modules/config/swap.nix (swapDevices).
{ lib, ... }:
{
  zramSwap = {
    enable = lib.mkDefault true;
    algorithm = lib.mkDefault "zstd";
    memoryPercent = lib.mkDefault 50;
  };
  # No swap on the SD card.
  swapDevices = lib.mkDefault [ ];
}
