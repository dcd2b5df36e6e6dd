# No access-time writes on the root file system: reads stay reads on an SD card.
# Backed by nixpkgs: nixos/modules/tasks/filesystems.nix (fileSystems.<name>.options,
# a list merged with the options set by the image or hardware configuration).
# In NixOS VM tests qemu-vm.nix replaces fileSystems, so this applies to real disks.
{
  fileSystems."/".options = [ "noatime" ];
}
