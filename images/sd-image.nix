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
{ lib, modulesPath, ... }:
{
  imports = [ (modulesPath + "/installer/sd-card/sd-image-aarch64.nix") ];

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
