# The box on a home network by name: with the appliance's mDNS (modules/appliance/mdns.nix)
# a laptop running avahi with nss-mdns resolves deckd.local to the box's LAN address,
# finds the console's _http._tcp record, and loads the console through the name; the
# firewall lets the mDNS queries in (UDP 5353). The node is called `deckd`, so the test
# network's host name is the appliance's default one.
# Modelled on nixpkgs nixos/tests/avahi.nix (two nodes, avahi-resolve, avahi-browse).
{ self, ... }:
{
  name = "deckd-mdns";

  nodes.deckd = { lib, ... }: {
    imports = [ (import ./_server.nix { inherit self; }) ];
    services.avahi.enable = lib.mkForce true;
    services.deckd.initialAdmin.enable = false;
  };

  nodes.laptop = { pkgs, ... }: {
    services.avahi = {
      enable = true;
      nssmdns4 = true;
    };
    environment.systemPackages = [ pkgs.curl ];
  };

  testScript = ''
    start_all()
    deckd.wait_for_unit("deckd.service")
    deckd.wait_for_unit("avahi-daemon.service")
    deckd.wait_for_open_port(80)
    laptop.wait_for_unit("avahi-daemon.service")

    with subtest("mDNS goes through the box's firewall"):
        deckd.succeed("systemctl is-active firewall.service")

    with subtest("the laptop resolves deckd.local over mDNS to the box's LAN address"):
        out = laptop.wait_until_succeeds("avahi-resolve -4 -n deckd.local", timeout=90)
        name, addr = out.split()
        assert name == "deckd.local" and addr.startswith("192.168.1."), out

    with subtest("the console's HTTP service record"):
        records = laptop.wait_until_succeeds(
            "avahi-browse -krtp _http._tcp | grep '^=.*;deckd\\.local;.*;80;\"path=/console\"'", timeout=60
        )
        assert "deckd" in records, records

    with subtest("a browser on the laptop loads the console by name"):
        laptop.wait_until_succeeds("getent hosts deckd.local", timeout=30)
        page = laptop.succeed("curl -sSf http://deckd.local/console/setup")
        assert "Set up this deckd box" in page, page[:300]
  '';
}
