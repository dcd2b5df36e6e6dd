# The x86_64 twin of the Pi (nixosConfigurations.vm): the same modules minus the
# hardware, for trying the appliance in QEMU:
#   nix run .#nixosConfigurations.vm.config.system.build.vm
# then open http://localhost:8080/ (forwarded to nginx on port 80).
#
# Backed by nixpkgs: nixos/modules/virtualisation/qemu-vm.nix (virtualisation.memorySize,
# cores, graphics, forwardPorts, qemu.options), nixos/modules/misc/nixpkgs.nix.
{ modulesPath, ... }:
{
  imports = [
    ./common.nix
    (modulesPath + "/virtualisation/qemu-vm.nix")
  ];

  nixpkgs.hostPlatform = "x86_64-linux";

  # deckd-vm.local, so the twin and a real box on the same network do not clash.
  deckd.appliance.hostName = "deckd-vm";

  virtualisation = {
    # A Pi 3's memory.
    memorySize = 1024;
    cores = 2;
    graphics = false;
    forwardPorts = [
      { from = "host"; host.port = 8080; guest.port = 80; }
    ];
    # A hardware watchdog for systemd.settings.Manager.RuntimeWatchdogSec to drive,
    # like the Pi's.
    qemu.options = [ "-device i6300esb" ];
  };

  boot.kernelModules = [ "i6300esb" ];

  system.stateVersion = "26.05";
}
