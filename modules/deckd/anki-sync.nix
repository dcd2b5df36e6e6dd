# The group's own Anki sync server next to deckd: each member syncs their collection
# between their devices through the same box, instead of AnkiWeb. It is nixpkgs'
# services.anki-sync-server (Anki's built-in server, the `anki-sync-server` binary),
# bound to loopback, behind deckd's nginx under /anki-sync/: one port (80/443) to open,
# one name (http://deckd.local/anki-sync/), and the same TLS as deckd when it has TLS.
#
# A path prefix rather than a port of its own: Anki's manual (Self-Hosted Sync Server,
# "Reverse Proxies") supports a sync server bound to a subpath behind a reverse proxy
# as long as the URL entered in Anki ends in a slash. The trailing slash of proxy_pass
# strips the prefix, so the server sees /sync/... and /msync/... as it expects.
#
# Backed by nixpkgs: nixos/modules/services/misc/anki-sync-server.nix (enable, address,
# port, users with username and passwordFile, read through LoadCredential so the files
# may be root-only; DynamicUser with StateDirectory anki-sync-server; an assertion asks
# for at least one user), nixos/modules/services/web-servers/nginx/location-options.nix
# (proxyPass, extraConfig; recommendedProxySettings adds Host and X-Forwarded-*).
{ config, lib, ... }:

let
  inherit (lib) mkOption types;
  cfg = config.services.deckd;
  sync = cfg.ankiSync;
in
{
  options.services.deckd.ankiSync = {
    enable = lib.mkEnableOption ''
      Anki's own sync server (services.anki-sync-server) behind deckd's nginx at
      `/anki-sync/`, for the members' collections (Anki: Preferences, Syncing,
      self-hosted sync server `http://<host>/anki-sync/`)
    '';

    port = mkOption {
      type = types.port;
      default = 27701;
      description = "Loopback port of the sync server; nginx is its only client.";
    };

    users = mkOption {
      type = types.listOf (types.submodule {
        options = {
          username = mkOption {
            type = types.str;
            description = "Name the member enters in Anki's sync login.";
          };
          passwordFile = mkOption {
            type = types.str;
            example = "/run/secrets/anki-sync-alice";
            description = ''
              Absolute path of a file holding the member's sync password, readable by
              root alone (it is passed to the server as a systemd credential). A string,
              so the password never lands in the Nix store.
            '';
          };
        };
      });
      default = [ ];
      example = lib.literalExpression ''
        [ { username = "alice"; passwordFile = "/run/secrets/anki-sync-alice"; } ]
      '';
      description = ''
        The accounts of the sync server, one per member. These are separate from deckd's
        accounts: Anki's sync server keeps its own list (SYNC_USER1, SYNC_USER2, ...).
      '';
    };
  };

  config = lib.mkIf (cfg.enable && sync.enable) {
    assertions = [{
      assertion = cfg.nginx.enable;
      message = "services.deckd.ankiSync needs services.deckd.nginx.enable: the sync server is reached through deckd's nginx.";
    }];

    services.anki-sync-server = {
      enable = true;
      # Loopback only: Anki syncs in plain HTTP, so the server is reached through nginx
      # (and its TLS, when deckd has it), never directly.
      address = "127.0.0.1";
      inherit (sync) port;
      openFirewall = false;
      users = map (u: { inherit (u) username passwordFile; }) sync.users;
    };

    services.nginx.virtualHosts.${cfg.nginx.virtualHost}.locations."/anki-sync/" = {
      proxyPass = "http://127.0.0.1:${toString sync.port}/";
      extraConfig = ''
        # Collections and media go up as they arrive; the server's own limit is 100 MB
        # a request (MAX_SYNC_PAYLOAD_MEGS), below deckd's client_max_body_size.
        proxy_request_buffering off;
        proxy_buffering off;
        # A full sync of a large collection may take minutes on a Pi before it answers.
        proxy_read_timeout 300s;
        proxy_send_timeout 300s;
      '';
    };
  };
}
