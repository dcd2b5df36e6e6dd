# Fewer files on the card and a smaller closure: no manuals, no X11/XDG bits.
# (command-not-found is already off by default since nixpkgs 25.11.)
# Backed by nixpkgs: nixos/modules/misc/documentation.nix (documentation.*),
# nixos/modules/config/xdg/*.nix (xdg.*.enable), nixos/modules/config/fonts/fontconfig.nix.
{ lib, ... }:
{
  documentation = {
    enable = lib.mkDefault false;
    doc.enable = lib.mkDefault false;
    info.enable = lib.mkDefault false;
    man.enable = lib.mkDefault false;
    nixos.enable = lib.mkDefault false;
  };
  fonts.fontconfig.enable = lib.mkDefault false;
  xdg = {
    autostart.enable = lib.mkDefault false;
    icons.enable = lib.mkDefault false;
    menus.enable = lib.mkDefault false;
    mime.enable = lib.mkDefault false;
    sounds.enable = lib.mkDefault false;
  };
}
