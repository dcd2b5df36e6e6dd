# A banner on the box's own screen (tty1 and the other consoles): where the console is
# (http://<hostName>.local/ and the address the router gave) and, while no account
# exists, the one-time setup token the console's setup page asks for. Whoever has the
# box in hand can set it up with nothing but a screen; once the administrator exists
# the token line goes.
#
# How: agetty prints every file of its `--issue-file` list above the login prompt
# (util-linux agetty(8): a ":"-separated list of files and directories, in a directory
# the `*.issue` files). The list is /etc/issue (NixOS' greeting) and /run/deckd-banner,
# where a oneshot service writes deckd.issue and then runs `agetty --reload`, which makes
# running agettys print their prompt again with it. A timer reruns it every 15 s while
# setup is pending and stops itself once `deckd setup-token` says the box is set up
# (exit 1: "already set up"). The address is agetty's own `\4` escape, which agetty
# keeps current when the network changes.
#
# Who can read the token: whoever looks at the screen, and root. /run/deckd-banner is
# 0700 root and the file 0600 root (agetty runs as root), so other local users cannot
# read it; this service prints nothing of it to the journal (deckd's own start message
# does, where only root and the systemd-journal and wheel groups read it); deckd's
# copy in its data directory is 0600 deckd. Only changes reprint the prompt, since a
# serial console does not clear: each tick would scroll the same lines again.
#
# Backed by nixpkgs: nixos/modules/services/ttys/getty.nix (services.getty.extraArgs,
# passed to every agetty: getty@, serial-getty@, autovt@; environment.etc.issue is its
# greeting), nixos/modules/system/boot/systemd.nix (systemd.services, systemd.timers
# with timerConfig), nixos/modules/system/boot/systemd/tmpfiles.nix (systemd.tmpfiles.rules).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.deckd;
  dir = "/run/deckd-banner";
  host = config.networking.hostName;

  generate = pkgs.writeShellScript "deckd-console-banner" ''
    set -u
    umask 077
    PATH=${lib.makeBinPath [ pkgs.coreutils pkgs.diffutils pkgs.gnugrep pkgs.util-linux pkgs.systemd ]}
    # deckd reads its database and the token file as its own user, never as root.
    # Exit 0 prints the token; exit 1 says "already set up" or "not written yet".
    answer=$(runuser -u ${cfg.user} -- ${lib.getExe cfg.package} --config ${cfg.configFile} setup-token 2>&1)
    state=$?
    set_up=no
    if [ "$state" != 0 ] && printf '%s' "$answer" | grep -q 'already set up'; then set_up=yes; fi
    {
      echo
      echo "  deckd: collaborative Anki decks"
      # \4 is agetty's: the IPv4 address of the network interface, kept current.
      printf '%s\n' "  Open in a browser on this network:  http://${host}.local/   or   http://\4/"
      if [ "$state" = 0 ] && [ -n "$answer" ]; then
        echo
        echo "  No account exists yet. On the setup page, create the administrator"
        echo "  with this one-time setup token:"
        echo
        printf '      %s\n' "$answer"
      elif [ "$set_up" = no ]; then
        echo
        echo "  deckd is starting; the setup token appears here once it runs."
      fi
      echo
    } > ${dir}/deckd.issue.tmp
    # Reprint the prompts only when the banner changed: a serial console does not
    # clear, so a reprint every tick would scroll the same lines again and again.
    if cmp -s ${dir}/deckd.issue.tmp ${dir}/deckd.issue; then
      rm ${dir}/deckd.issue.tmp
    else
      mv ${dir}/deckd.issue.tmp ${dir}/deckd.issue
      if [ "$set_up" = yes ]; then
        # The token must not stay readable above the new prompt: clear tty1 and its
        # scroll-back (ESC[3J) before agetty prints the banner without it.
        printf '\033[H\033[2J\033[3J' > /dev/tty1 2>/dev/null || true
      fi
      agetty --reload || true
    fi
    # Set up: the banner keeps its URL line; nothing to look at again until the next boot.
    if [ "$set_up" = yes ]; then
      systemctl stop deckd-console-banner.timer
    fi
  '';
in
{
  options.services.deckd.consoleBanner.enable = lib.mkEnableOption ''
    a banner on the local consoles (tty1, the serial console) with the console's URL
    and, until the first account exists, the one-time setup token
  '';

  config = lib.mkIf (cfg.enable && cfg.consoleBanner.enable) {
    services.getty.extraArgs = [ "--issue-file" "/etc/issue:${dir}" ];

    systemd.tmpfiles.rules = [ "d ${dir} 0700 root root - -" ];

    systemd.services.deckd-console-banner = {
      description = "Console banner with deckd's URL and setup token";
      # At boot after deckd (which writes the token when it starts), and at each
      # timer tick.
      wantedBy = [ "multi-user.target" ];
      after = [ "deckd.service" "systemd-tmpfiles-setup.service" ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = generate;
        # Nothing of the banner goes to the journal; only failures are worth a line.
        StandardOutput = "null";
        LogLevelMax = "notice";
      };
    };

    systemd.timers.deckd-console-banner = {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnActiveSec = "15s";
        OnUnitActiveSec = "15s";
        AccuracySec = "1s";
      };
    };
  };
}
