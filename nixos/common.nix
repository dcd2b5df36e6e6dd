# What the Pi and its VM twin share: deckd behind nginx, the setup banner, backups,
# SSH, the firewall for 80/443. mDNS (`http://deckd.local/`) comes from the appliance
# profile (modules/appliance/mdns.nix).
#
# Backed by nixpkgs: nixos/modules/services/networking/ssh/sshd.nix
# (services.openssh.settings.PasswordAuthentication / PermitRootLogin),
# nixos/modules/services/networking/firewall.nix.
{ lib, ... }:
{
  services.deckd = {
    enable = true;
    nginx.enable = true;
    openFirewall = true;
    backup.enable = true;
    # The first account is made in the browser: the setup page asks for the one-time
    # token that the banner on the box's screen shows (or `deckd setup-token` prints).
    consoleBanner.enable = lib.mkDefault true;
  };

  services.openssh = {
    enable = true;
    settings = {
      PasswordAuthentication = false;
      PermitRootLogin = "prohibit-password";
    };
  };

  networking.firewall = {
    enable = true;
    allowedTCPPorts = [ 80 443 ];
  };

  time.timeZone = lib.mkDefault "UTC";
}
