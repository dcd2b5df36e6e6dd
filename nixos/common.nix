# What the Pi and its VM twin share: deckd behind nginx, the first account, backups,
# SSH, the firewall for 80/443, mDNS so `http://deckd.local/` works on a home network.
#
# Backed by nixpkgs: nixos/modules/services/networking/ssh/sshd.nix
# (services.openssh.settings.PasswordAuthentication / PermitRootLogin),
# nixos/modules/services/networking/avahi-daemon.nix (services.avahi.nssmdns4,
# publish.enable, publish.addresses, openFirewall),
# nixos/modules/services/networking/firewall.nix.
{ lib, ... }:
{
  services.deckd = {
    enable = true;
    nginx.enable = true;
    openFirewall = true;
    backup.enable = true;
    # No password file: a one-time password for `admin` is printed once to
    # `journalctl -u deckd-initial-admin`.
    initialAdmin.enable = lib.mkDefault true;
  };

  services.openssh = {
    enable = true;
    settings = {
      PasswordAuthentication = false;
      PermitRootLogin = "prohibit-password";
    };
  };

  services.avahi = {
    enable = lib.mkDefault true;
    nssmdns4 = true;
    openFirewall = true;
    publish = {
      enable = true;
      addresses = true;
    };
  };

  networking.firewall = {
    enable = true;
    allowedTCPPorts = [ 80 443 ];
  };

  time.timeZone = lib.mkDefault "UTC";
}
