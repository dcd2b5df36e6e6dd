# Fewer files on the card and a smaller closure: no manuals, no command-not-found
# database, no X11/XDG bits.
# Backed by nixpkgs: nixos/modules/misc/documentation.nix (documentation.*),
# nixos/modules/programs/command-not-found/command-not-found.nix,
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
  programs.command-not-found.enable = lib.mkDefault false;
  fonts.fontconfig.enable = lib.mkDefault false;
  xdg = {
    autostart.enable = lib.mkDefault false;
    icons.enable = lib.mkDefault false;
    menus.enable = lib.mkDefault false;
    mime.enable = lib.mkDefault false;
    sounds.enable = lib.mkDefault false;
  };
}
