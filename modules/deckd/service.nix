# The deckd systemd unit, its user and its validated configuration file.
#
# The [Unit] and [Service] settings come from dist/systemd/service-settings.toml, the
# same data file the unit for other systemd hosts (Debian, Raspberry Pi OS) is rendered
# from; they are applied with mkDefault so a host can override any limit. This file
# adds only the NixOS wiring: ExecStart with the package, the static user, extra
# writable paths, the firewall.
#
# Backed by nixpkgs: nixos/modules/system/boot/systemd.nix (systemd.services,
# unitConfig/serviceConfig as attrsOf unitOption: a list becomes one line per item),
# nixos/modules/config/users-groups.nix (users.users.<name>.isSystemUser, .group),
# nixos/modules/system/boot/systemd/tmpfiles.nix (systemd.tmpfiles.rules),
# nixos/modules/services/networking/firewall.nix (networking.firewall.allowedTCPPorts).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.deckd;

  unitSettings = builtins.fromTOML (builtins.readFile ../../dist/systemd/service-settings.toml);

  settingsFormat = pkgs.formats.toml { };

  # deckd's Config has deny_unknown_fields: write only keys that are set. deckd backs
  # up daily on its own, so a disabled `backup` must say interval 0 explicitly.
  effectiveSettings = lib.filterAttrs (_: v: v != null) cfg.settings
    // (if cfg.backup.enable then {
    backup_dir = toString cfg.backup.directory;
    backup_interval_hours = cfg.backup.intervalHours;
    backup_keep = cfg.backup.keep;
  } else {
    backup_interval_hours = 0;
  });

  rawConfig = settingsFormat.generate "deckd-unchecked.toml" effectiveSettings;

  # Build-time validation: `deckd check-config` parses the file exactly as `serve`
  # does and exits non-zero, naming the key, on a bad value. Skipped only when the
  # build machine cannot run the target's binary (cross-compilation).
  canRun = pkgs.stdenv.buildPlatform.canExecute pkgs.stdenv.hostPlatform;
  checkedConfig =
    if canRun then
      pkgs.runCommand "deckd.toml"
        {
          preferLocalBuild = true;
        } ''
        echo "checking the deckd configuration with deckd check-config:"
        ${lib.getExe cfg.package} --config ${rawConfig} check-config
        cp ${rawConfig} $out
      ''
    else rawConfig;

  listenPort = lib.toInt (lib.last (lib.splitString ":" cfg.settings.listen));

  extraWritable = lib.filter (p: !(lib.hasPrefix "/var/lib/deckd/" "${toString p}/"))
    ([ cfg.dataDir ] ++ lib.optional cfg.backup.enable cfg.backup.directory);
in
{
  config = lib.mkIf cfg.enable {
    services.deckd.configFile = checkedConfig;

    systemd.services.deckd = {
      wantedBy = [ "multi-user.target" ];

      # Description, After/Wants network-online.target, start limits.
      unitConfig = lib.mapAttrs (_: lib.mkDefault) (unitSettings.Unit or { });

      serviceConfig = lib.mkMerge [
        # Type=notify, watchdog, restart policy, limits, the sandbox: shared with Debian.
        (lib.mapAttrs (_: lib.mkDefault) (unitSettings.Service or { }))
        {
          ExecStart = "${lib.getExe cfg.package} --config ${cfg.configFile} serve";
          User = cfg.user;
          Group = cfg.group;
          WorkingDirectory = cfg.dataDir;
          EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;
          # ProtectSystem=strict: a dataDir or backup directory outside the
          # StateDirectory must be listed to be writable.
          ReadWritePaths = lib.mkIf (extraWritable != [ ]) extraWritable;
        }
      ];
    };

    systemd.tmpfiles.rules = map (p: "d ${toString p} 0750 ${cfg.user} ${cfg.group} - -") extraWritable;

    users.users = lib.mkIf (cfg.user == "deckd") {
      deckd = {
        isSystemUser = true;
        inherit (cfg) group;
        home = cfg.dataDir;
        description = "deckd service user";
      };
    };

    users.groups = lib.mkIf (cfg.group == "deckd") {
      deckd = { };
    };

    # `deckd …` for the administrator: runs as the service user (never as root, which
    # would leave root-owned database files behind) with the service's configuration.
    environment.systemPackages = [
      (pkgs.writeShellScriptBin "deckd" ''
        if [ "$(id -u)" = 0 ]; then
          exec ${pkgs.util-linux}/bin/runuser -u ${cfg.user} -- "$0" "$@"
        fi
        export DECKD_CONFIG=${cfg.configFile}
        exec ${lib.getExe cfg.package} "$@"
      '')
    ];

    networking.firewall.allowedTCPPorts = lib.mkIf (cfg.openFirewall && !cfg.nginx.enable) [ listenPort ];
  };
}
