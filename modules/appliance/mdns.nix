# The box's name on the home network: avahi answers mDNS for `<hostName>.local` and
# publishes an HTTP service record, so a browser reaches http://deckd.local/ without a
# DNS server or knowing the address the router gave out, and service browsers
# (Bonjour, avahi-browse) list the console.
#
# Backed by nixpkgs: nixos/modules/services/networking/avahi-daemon.nix (enable,
# hostName defaulting to networking.hostName, nssmdns4, publish.enable and
# publish.addresses for the A records, extraServiceFiles as /etc/avahi/services/<name>.service,
# openFirewall opening UDP 5353), exercised by nixos/tests/avahi.nix;
# nixos/modules/tasks/network-interfaces.nix (networking.hostName).
{ config, lib, ... }:

let
  inherit (lib) mkOption types;
  cfg = config.deckd.appliance;
in
{
  options.deckd.appliance.hostName = mkOption {
    # A DNS label: what avahi and networking.hostName accept.
    type = types.strMatching "[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?";
    default = "deckd";
    example = "anki-club";
    description = ''
      Host name of the appliance, published on the local network as
      `<hostName>.local` (the console is then at `http://<hostName>.local/`). Sets
      `networking.hostName` unless the host sets that itself. Pick another one when two deckd boxes share a network:
      avahi would otherwise rename the second one `deckd-2.local`.
    '';
  };

  config = {
    # Weaker than mkDefault (1000) but stronger than the option's own default "nixos":
    # a host's networking.hostName wins, and so does the NixOS test driver's mkDefault
    # node name (nixos/lib/testing/network.nix), with which a second mkDefault would
    # conflict.
    networking.hostName = lib.mkOverride 1100 cfg.hostName;

    services.avahi = {
      enable = lib.mkDefault true;
      # Names in .local resolve on the box too (getent hosts deckd.local, curl).
      nssmdns4 = lib.mkDefault true;
      # UDP 5353: without it the firewall drops the queries of other machines.
      openFirewall = lib.mkDefault true;
      publish = {
        enable = lib.mkDefault true;
        # The A (and AAAA) records for <hostName>.local: the part a browser needs.
        addresses = lib.mkDefault true;
      };
      # DNS-SD: the console as an _http._tcp service ("deckd on <host>"), with the
      # path in its TXT record as RFC 6763 section 6.3 describes for HTTP.
      extraServiceFiles.deckd = lib.mkIf (config.services.deckd.nginx.enable or false) ''
        <?xml version="1.0" standalone='no'?>
        <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
        <service-group>
          <name replace-wildcards="yes">deckd on %h</name>
          <service>
            <type>_http._tcp</type>
            <port>80</port>
            <txt-record>path=/console</txt-record>
          </service>
        </service-group>
      '';
    };
  };
}
