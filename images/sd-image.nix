# The aarch64 SD card image: nixpkgs' generic image for the Raspberry Pi 3, 4 and
# Zero 2 W (U-Boot + extlinux, firmware on a FAT partition, ext4 root that grows to
# the card on first boot), plus seed 000's config.txt lines for a headless Pi.
#
# Backed by nixpkgs: nixos/modules/installer/sd-card/sd-image-aarch64.nix (writes
# firmware/config.txt in sdImage.populateFirmwareCommands, ending with an [all]
# section) and nixos/modules/installer/sd-card/sd-image.nix (populateFirmwareCommands
# has no type, so string definitions are concatenated: ours comes last via mkAfter
# and starts with a newline), nixos/modules/image/file-options.nix (image.baseName).
#
# Build: nix build .#packages.aarch64-linux.sd-image
# Result: result/sd-image/deckd-sd-image-aarch64.img.zst
#
# Lean: sd-image-aarch64.nix brings nixpkgs' installer profiles, made for repairing
# any machine, not for an appliance:
#  - profiles/base.nix: rescue and disk tools (testdisk, ms-sys, parted, gptfdisk,
#    ddrescue, cryptsetup, sshfs, screen, smartmontools, hdparm, ntfsprogs, xfsprogs,
#    jfsutils, f2fs-tools, zip, cabextract, ...) and support for btrfs, cifs, f2fs, ntfs,
#    xfs and ZFS (the ZFS kernel module built for the image's kernel, its userland).
#    deckd's box mounts ext4 and the FAT firmware partition, nothing else, and is
#    repaired by re-flashing the card or over SSH: the whole profile is disabled.
#  - profiles/all-hardware.nix (through sd-image.nix, hardware.enableAllHardware):
#    kept. Its initrd modules (USB, MMC, PCIe for the Pi 4's USB controller) and the
#    redistributable firmware (the Zero 2 W's Wi-Fi) are what lets one image boot the
#    Pi 3, 4 and Zero 2 W; they cost initrd and store size, not RAM.
#  - profiles/installation-device.nix is not imported (only the *-installer images).
# boot.supportedFilesystems / boot.initrd.supportedFilesystems (nixos/modules/tasks/
# filesystems.nix: a list or an attribute set of booleans) are forced to what the
# card holds, so no other module's list (e.g. one added by hardware profiles) pulls
# a file system back in. A host that mounts something else (a USB disk) adds it here.
{ lib, modulesPath, ... }:
{
  imports = [ (modulesPath + "/installer/sd-card/sd-image-aarch64.nix") ];

  # lib/modules.nix: disabledModules takes paths relative to modulesPath.
  disabledModules = [ "profiles/base.nix" ];

  boot.supportedFilesystems = lib.mkForce {
    ext4 = true; # the root file system
    vfat = true; # /boot/firmware (config.txt, U-Boot), mounted on demand
  };
  boot.initrd.supportedFilesystems = lib.mkForce {
    ext4 = true; # stage 1 mounts only the root
  };

  image.baseName = lib.mkDefault "deckd-sd-image-aarch64";

  sdImage.populateFirmwareCommands = lib.mkAfter ("\n" + ''
    # deckd (seed 000): headless Pi, least GPU memory, no splash, no camera.
    # sd-image-aarch64.nix copies config.txt out of the Nix store, so it is read-only.
    chmod u+w firmware/config.txt
    cat >> firmware/config.txt <<'EOF'

    [all]
    # Minimal GPU memory for a headless board (MB).
    gpu_mem=16
    # Faster boot.
    disable_splash=1
    # No camera: the legacy camera stack (start_x) and the current firmware's
    # auto-detection of camera modules.
    start_x=0
    camera_auto_detect=0
    EOF
  '');
}
