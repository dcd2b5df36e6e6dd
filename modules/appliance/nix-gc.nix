# Keep the Nix store (and so the card) from filling up with old generations.
# Backed by nixpkgs: nixos/modules/services/misc/nix-gc.nix (nix.gc.automatic,
# nix.gc.dates: a systemd calendar string, nix.gc.options; the timer is Persistent by
# default, so a missed run happens at the next boot).
{ lib, ... }:
{
  nix.gc = {
    automatic = lib.mkDefault true;
    dates = lib.mkDefault "weekly";
    options = lib.mkDefault "--delete-older-than 14d";
  };
}
