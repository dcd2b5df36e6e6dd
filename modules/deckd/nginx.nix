# nginx in front of deckd: the API proxied with body size and timeouts fit for 250 MB
# uploads, gzip and the other recommended settings, security headers, media files
# served straight from the state directory through an internal location that deckd
# reaches with X-Accel-Redirect, and the web console under /console (its event stream
# unbuffered, its hashed static files with deckd's immutable caching).
#
# Backed by nixpkgs: nixos/modules/services/web-servers/nginx/default.nix
# (recommendedGzipSettings, recommendedOptimisation, recommendedProxySettings,
# recommendedTlsSettings, proxyTimeout, user, commonHttpConfig; recommendedOptimisation
# sets keepalive_timeout at http level, which a server-level one overrides; a location
# with proxyPass includes the recommended proxy_set_header lines after its extraConfig),
# .../nginx/vhost-options.nix (default, enableACME, forceSSL, extraConfig, locations)
# and .../nginx/location-options.nix (proxyPass, extraConfig). nginx inherits add_header
# only into locations that define none, so the media location repeats the security
# headers; proxy_set_header likewise, so the event stream's location gets all of them.
{ config, lib, ... }:

let
  inherit (lib) mkOption types;
  cfg = config.services.deckd;
  n = cfg.nginx;
  tls = n.enableACME || n.forceSSL;

  mediaPrefix = "/_deckd_media/";

  # "127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080" or "[::]:8080" → where nginx connects.
  listenParts = builtins.match "(.*):([0-9]+)" cfg.settings.listen;
  listenHost = builtins.elemAt listenParts 0;
  upstreamHost =
    if listenHost == "0.0.0.0" then "127.0.0.1"
    else if listenHost == "[::]" then "[::1]"
    else listenHost;
  upstream = "http://${upstreamHost}:${builtins.elemAt listenParts 1}";

  # Seed 003's security headers that nginx always adds (also to errors: `always`).
  alwaysHeaders = ''
    add_header Permissions-Policy "camera=(), microphone=(), geolocation=()" always;
    add_header Cross-Origin-Opener-Policy "same-origin" always;
    ${lib.optionalString tls ''add_header Strict-Transport-Security "max-age=31536000" always;''}
  '';

  # deckd's web console sends its own Content-Security-Policy (scripts and styles from
  # 'self'), X-Frame-Options, X-Content-Type-Options and Referrer-Policy (same-origin).
  # A second CSP from nginx would apply as well and block the console's stylesheet and
  # script, a second Referrer-Policy would override deckd's. So the server adds each of
  # these only where deckd sent none (the add-on's answers, nginx's own error pages):
  # add_header skips an empty value. The maps go in the http block.
  headerMaps = ''
    map $upstream_http_content_security_policy $deckd_csp {
      "" "default-src 'none'; frame-ancestors 'none'";
      default "";
    }
    map $upstream_http_x_frame_options $deckd_x_frame_options {
      "" "DENY";
      default "";
    }
    map $upstream_http_x_content_type_options $deckd_x_content_type_options {
      "" "nosniff";
      default "";
    }
    map $upstream_http_referrer_policy $deckd_referrer_policy {
      "" "no-referrer";
      default "";
    }
  '';
  serverHeaders = ''
    add_header X-Content-Type-Options $deckd_x_content_type_options always;
    add_header X-Frame-Options $deckd_x_frame_options always;
    add_header Referrer-Policy $deckd_referrer_policy always;
    add_header Content-Security-Policy $deckd_csp always;
    ${alwaysHeaders}
  '';
  # Files nginx serves itself (media): fixed values.
  fileHeaders = ''
    add_header X-Content-Type-Options "nosniff" always;
    add_header X-Frame-Options "DENY" always;
    add_header Referrer-Policy "no-referrer" always;
    add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;
    ${alwaysHeaders}
  '';
in
{
  options.services.deckd.nginx = {
    enable = lib.mkEnableOption "an nginx virtual host in front of deckd";

    virtualHost = mkOption {
      type = types.str;
      default = "deckd";
      example = "decks.example.org";
      description = "Name (server_name) of the nginx virtual host serving deckd.";
    };

    default = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Make this the default server, so that requests by IP address or by any other
        name (e.g. `raspberrypi.local`) reach deckd.
      '';
    };

    enableACME = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Get a Let's Encrypt certificate for `virtualHost` (passed to the virtual host;
        needs `security.acme.acceptTerms` and `security.acme.defaults.email`).
      '';
    };

    forceSSL = mkOption {
      type = types.bool;
      default = false;
      description = "Redirect HTTP to HTTPS (passed to the virtual host).";
    };

    clientMaxBodySize = mkOption {
      type = types.str;
      default = "260m";
      description = "Largest request body nginx accepts: a 250 MB deck upload plus headroom.";
    };

    uploadTimeout = mkOption {
      type = types.str;
      default = "600s";
      description = ''
        Proxy read/send timeouts: how long nginx waits for deckd without a byte, e.g.
        while a Pi parses a 250 MB deck or an upload waits for a free upload slot.
      '';
    };

    connectionsPerClient = mkOption {
      type = types.ints.positive;
      default = 128;
      description = ''
        Connections one client address may hold through nginx; more are answered 429
        with Retry-After. A few people behind one home or campus address syncing media
        at once hold about 20 each. Uploads are streamed to deckd, so a client trickling
        a slow body holds a deckd connection too, and deckd sees nginx as one trusted
        address.
      '';
    };

    clientIdleTimeout = mkOption {
      type = types.str;
      default = "60s";
      description = ''
        Body and send timeouts: idle time between two reads from or writes to a
        client (never a total, so a slow upload that keeps sending is not cut off).
        The add-on itself gives up after 30 s without a byte.
      '';
    };
  };

  config = lib.mkIf (cfg.enable && n.enable) {
    services.deckd.settings = {
      media_accel_prefix = mediaPrefix;
      public_url = lib.mkIf tls (lib.mkDefault "https://${n.virtualHost}");
    };

    # nginx reads media from dataDir (0750 deckd:deckd, files 0640 by UMask 0027).
    users.users.${config.services.nginx.user}.extraGroups = [ cfg.group ];

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall ([ 80 ] ++ lib.optional tls 443);

    services.nginx = {
      enable = true;
      commonHttpConfig = headerMaps + ''
        limit_conn_zone $binary_remote_addr zone=deckd_per_client:1m;
      '';
      recommendedGzipSettings = lib.mkDefault true;
      recommendedOptimisation = lib.mkDefault true;
      recommendedProxySettings = lib.mkDefault true;
      recommendedTlsSettings = lib.mkDefault true;
      proxyTimeout = lib.mkDefault n.uploadTimeout;

      virtualHosts.${n.virtualHost} = {
        inherit (n) default enableACME forceSSL;

        extraConfig = ''
          client_max_body_size ${n.clientMaxBodySize};
          # Slow clients: headers within 10 s, idle keep-alive connections closed after
          # 30 s (overrides recommendedOptimisation's http-level 65 s).
          client_header_timeout 10s;
          keepalive_timeout 30s;
          client_body_timeout ${n.clientIdleTimeout};
          send_timeout ${n.clientIdleTimeout};
          limit_conn deckd_per_client ${toString n.connectionsPerClient};
          limit_conn_status 429;
          # The add-on's media requests wait out Retry-After and try again.
          error_page 429 @deckd_too_many;
          ${serverHeaders}
        '';

        locations."/" = {
          proxyPass = upstream;
          extraConfig = ''
            # Stream uploads to deckd as they arrive instead of spooling 250 MB to disk.
            proxy_request_buffering off;
            proxy_read_timeout ${n.uploadTimeout};
            proxy_send_timeout ${n.uploadTimeout};
          '';
        };

        # deckd answers GET <media url> with X-Accel-Redirect: /_deckd_media/<aa>/<md5>.
        # Files are named by content, so they never change. Deck archives for new
        # subscribers come the same way (/_deckd_media/archives/<deck>-<version>.zip);
        # a new deck version is a new name, so they never change either.
        locations.${mediaPrefix} = {
          extraConfig = ''
            internal;
            alias ${toString cfg.dataDir}/media/;
            # Not `always`: a 404 must not be cached for a year.
            add_header Cache-Control "public, max-age=31536000, immutable";
            ${fileHeaders}
          '';
        };

        # The answer to a client over its connection share (error_page 429 above);
        # deckd's own 429s pass through untouched (no proxy_intercept_errors).
        locations."@deckd_too_many".extraConfig = ''
          default_type text/plain;
          add_header Retry-After 5 always;
          return 429 "Too many connections from your address; try again shortly.\n";
        '';

        # The web console: deckd's pages under /console (a browser's GET / reaches
        # location "/", where deckd redirects it to /console). The server's security
        # headers apply: no add_header in these locations, so they are inherited.
        locations."/console" = {
          proxyPass = upstream;
          extraConfig = ''
            # Long lists stream as deckd renders them.
            proxy_buffering off;
          '';
        };

        # console.<content hash>.css|js: deckd's `Cache-Control: public, max-age=31536000,
        # immutable` passes through untouched (a new build has new names).
        locations."^~ /console/static/".proxyPass = upstream;

        # Live review counts (Server-Sent Events): every event must reach the browser when
        # deckd writes it, so nothing buffers, caches or compresses the stream. deckd
        # writes a keep-alive comment every 15 s; the read timeout only ends a stream
        # whose deckd went silent.
        locations."= /console/events" = {
          proxyPass = upstream;
          extraConfig = ''
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
            gzip off;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
          '';
        };
      };
    };
  };
}
