# Fewer files on the card and a smaller closure: no manuals, no X11/XDG bits, no
# command-not-found, no tools or storage stacks the box never uses.
# Backed by nixpkgs: nixos/modules/misc/documentation.nix (documentation.*),
# nixos/modules/config/xdg/*.nix (xdg.*.enable), nixos/modules/config/fonts/fontconfig.nix,
# nixos/modules/programs/command-not-found/command-not-found.nix,
# nixos/modules/config/system-path.nix (environment.defaultPackages),
# nixos/modules/virtualisation/nixos-containers.nix (boot.enableContainers),
# nixos/modules/tasks/lvm.nix (services.lvm.enable), nixos/modules/tasks/bcache.nix
# (boot.bcache.enable), nixos/modules/config/stub-ld.nix (environment.stub-ld.enable).
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
  # nixpkgs turns command-not-found on with `lib.mkDefault` whenever the nixpkgs source
  # ships programs.sqlite (a channels.nixos.org tarball; NixOS/nixpkgs#489532). One
  # step above mkDefault wins over that, and a host's plain definition still wins here.
  programs.command-not-found.enable = lib.mkOverride 999 false;

  # NixOS' default tools for an interactive machine (perl, rsync, strace:
  # nixos/modules/config/system-path.nix).
  environment.defaultPackages = lib.mkDefault [ ];
  # No nixos-container on a box that runs one service.
  boot.enableContainers = lib.mkDefault false;
  # No LVM or bcache on an SD card: their udev rules and tools stay out
  # of the initrd and the system (nixos/modules/tasks/lvm.nix, bcache.nix).
  services.lvm.enable = lib.mkDefault false;
  boot.bcache.enable = lib.mkDefault false;
  # No loader stub for foreign binaries (nixos/modules/config/stub-ld.nix).
  environment.stub-ld.enable = lib.mkDefault false;
}
