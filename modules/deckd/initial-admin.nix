# The first account: a one-shot unit that runs before deckd. If the database has no
# account yet it creates `name`, with the password from `passwordFile`, or, without a
# password file, with a random one-time password printed once to the journal
# (`journalctl -u deckd-initial-admin`). When accounts exist it does nothing.
#
# Backed by nixpkgs: nixos/modules/system/boot/systemd.nix (systemd.services with
# script/serviceConfig; LoadCredential passes a root-only file to the service user).
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption types;
  cfg = config.services.deckd;
  admin = cfg.initialAdmin;
  deckd = "${lib.getExe cfg.package} --config ${cfg.configFile}";
in
{
  options.services.deckd.initialAdmin = {
    enable = lib.mkEnableOption "creating the first deckd account when the database has none";

    name = mkOption {
      type = types.str;
      default = "admin";
      description = "Name of the first account.";
    };

    passwordFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/deckd-admin-password";
      description = ''
        File holding the first account's password (at least 8 characters; a trailing
        newline is ignored). It is read through systemd's LoadCredential, so it may be
        readable by root only. When null, a random one-time password is generated and
        printed once to the journal of `deckd-initial-admin.service`; change it with
        `deckd user passwd <name>`.
      '';
    };
  };

  config = lib.mkIf (cfg.enable && admin.enable) {
    systemd.services.deckd-initial-admin = {
      description = "Create the first deckd account";
      wantedBy = [ "deckd.service" ];
      before = [ "deckd.service" ];
      path = [ pkgs.coreutils ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        User = cfg.user;
        Group = cfg.group;
        UMask = "0027";
        StateDirectory = "deckd";
        StateDirectoryMode = "0750";
        WorkingDirectory = cfg.dataDir;
        EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;
        LoadCredential = lib.mkIf (admin.passwordFile != null) "password:${toString admin.passwordFile}";
        PrivateTmp = true;
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        ReadWritePaths = [ (toString cfg.dataDir) ];
      };
      script = ''
        set -eu
        if [ -n "$(${deckd} user list)" ]; then
          echo "deckd already has accounts; nothing to create."
          exit 0
        fi
      '' + (if admin.passwordFile != null then ''
        ${deckd} user add ${lib.escapeShellArg admin.name} < "$CREDENTIALS_DIRECTORY/password"
        echo "Created the first deckd account ${admin.name} with the configured password."
      '' else ''
        password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)
        printf '%s\n' "$password" | ${deckd} user add ${lib.escapeShellArg admin.name}
        echo "Created the first deckd account: ${admin.name}"
        echo "One-time password (shown only here): $password"
        echo "Log in with it from the add-on, then change it: sudo deckd user passwd ${admin.name}"
      '');
    };
  };
}
