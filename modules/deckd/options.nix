# The interface of services.deckd (RFC 42: freeform TOML `settings` with typed common keys).
# Option helpers (mkEnableOption, mkPackageOption, types.submodule with freeformType,
# pkgs.formats.toml) as in nixpkgs lib/options.nix, lib/types.nix and
# pkgs/pkgs-lib/formats.nix.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption types;
  cfg = config.services.deckd;
  settingsFormat = pkgs.formats.toml { };
  # An absolute path as a plain string (lib/types.nix: strMatching is a str type).
  absolutePath = types.strMatching "/.+";
in
{
  options.services.deckd = {
    enable = lib.mkEnableOption "deckd, the self-hosted server for collaborative Anki decks";

    package = lib.mkPackageOption pkgs "deckd" { };

    user = mkOption {
      type = types.str;
      default = "deckd";
      description = ''
        System user deckd runs as. The default user is created statically so that
        nginx, in the same group, can read the media files.
      '';
    };

    group = mkOption {
      type = types.str;
      default = "deckd";
      description = "Group deckd runs as; nginx is added to it when the nginx front is enabled.";
    };

    # A string, not types.path: a path value (`./data`) would be copied into the
    # world-readable Nix store, and the database must live on the card's writable part.
    dataDir = mkOption {
      type = absolutePath;
      default = "/var/lib/deckd";
      description = ''
        Absolute path of the directory with the SQLite database and the media files
        (`media/<aa>/<md5>`), given as a string.
        The default is the unit's StateDirectory; any other path is created and made
        writable through ReadWritePaths.
      '';
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/deckd.env";
      description = ''
        File with `DECKD_<KEY>=value` or `DECKD_<KEY>_FILE=/path` lines, read by
        systemd when the service starts. Use it for secrets, which must never go into
        `settings` (the generated TOML is world-readable in the Nix store).
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Open the firewall: ports 80 (and 443 with TLS) when the nginx front is
        enabled, otherwise the port of `settings.listen`.
      '';
    };

    backup = {
      enable = lib.mkEnableOption "deckd's online SQLite backups with retention";

      directory = mkOption {
        type = absolutePath;
        default = "${cfg.dataDir}/backups";
        defaultText = lib.literalExpression ''"''${config.services.deckd.dataDir}/backups"'';
        description = "Where deckd writes its backups (the `backup_dir` setting).";
      };

      intervalHours = mkOption {
        type = types.ints.positive;
        default = 24;
        description = "Hours between two backups (the `backup_interval_hours` setting).";
      };

      keep = mkOption {
        type = types.ints.positive;
        default = 7;
        description = "How many backups are kept; older ones are deleted (the `backup_keep` setting).";
      };
    };

    settings = mkOption {
      default = { };
      description = ''
        deckd's configuration, written as TOML and checked at build time with
        `deckd check-config`: a value deckd would reject fails the build. The common
        keys are typed below; any other key of deckd's configuration can be set too
        (see `deckd check-config` for the full list). Keys left `null` are not
        written, so deckd's own default applies.
      '';
      example = lib.literalExpression ''
        {
          listen = "127.0.0.1:8080";
          public_url = "https://decks.example.org";
          worker_threads = 2;
          slow_request_ms = 500;
        }
      '';
      type = types.submodule {
        freeformType = settingsFormat.type;
        options = {
          data_dir = mkOption {
            type = types.str;
            readOnly = true;
            default = toString cfg.dataDir;
            defaultText = lib.literalExpression "config.services.deckd.dataDir";
            description = "Set through `services.deckd.dataDir`.";
          };

          listen = mkOption {
            type = types.str;
            default = "127.0.0.1:8080";
            description = ''
              Address:port the HTTP API binds to. Keep it on loopback behind nginx;
              `[::1]:8080` and `0.0.0.0:8080` work too.
            '';
          };

          public_url = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "https://decks.example.org";
            description = ''
              Base URL clients reach deckd at; media links are built from it. When
              unset, deckd uses the Host header of each request, which works for plain
              HTTP by name or address. Set automatically to `https://<virtualHost>`
              when the nginx front uses TLS.
            '';
          };

          worker_threads = mkOption {
            type = types.ints.positive;
            default = 2;
            description = "Tokio worker threads (a Pi has 4 small cores; 2 leaves room for nginx and SQLite).";
          };

          read_connections = mkOption {
            type = types.ints.positive;
            default = 3;
            description = ''
              Read-only SQLite connections (there is always exactly one writer). Streamed
              pulls may hold all but one, which stays free for token checks.
            '';
          };

          log_level = mkOption {
            type = types.str;
            default = "info";
            example = "deckd=debug,sqlx=warn";
            description = "tracing filter for the journal.";
          };

          trusted_proxies = mkOption {
            type = types.listOf types.str;
            default = [ "127.0.0.1" "::1" ];
            description = "Proxies whose X-Forwarded-For / X-Real-IP headers are believed (nginx on loopback).";
          };

          max_deck_body_bytes = mkOption {
            type = types.nullOr types.ints.positive;
            default = null;
            description = "Largest accepted /createDeck and /submitCard body; deckd's default is 250 MiB.";
          };

          media_accel_prefix = mkOption {
            type = types.nullOr types.str;
            default = null;
            description = ''
              When set, media downloads are answered with `X-Accel-Redirect:
              <prefix><aa>/<md5>` and served by nginx from `dataDir/media/`; deck
              archives for new subscribers likewise, as `<prefix>archives/<file>.zip`.
              Set by the nginx front.
            '';
          };

          deck_archive_bytes = mkOption {
            type = types.nullOr types.ints.unsigned;
            default = null;
            example = 268435456;
            description = ''
              Disk the deck archives for new subscribers may use (one zip of a deck and
              its media instead of one request per file); 0 turns them off. deckd's
              default is 1 GiB.
            '';
          };

          metrics_listen = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "127.0.0.1:9464";
            description = "Loopback address for the metrics endpoint; unset means off.";
          };
        };
      };
    };

    configFile = mkOption {
      type = types.path;
      readOnly = true;
      internal = true;
      description = "The generated deckd.toml, after `deckd check-config` accepted it.";
    };
  };
}
