# Logs live in RAM (seed 000/004: nothing written to the card) with a size cap.
#
# nixos-26.05 has services.journald.storage and services.journald.extraConfig
# (nixos/modules/system/boot/systemd/journald.nix). nixpkgs after 26.05 replaced them
# with the freeform services.journald.settings.Journal and removed extraConfig
# (NixOS/nixpkgs#536538, release notes 26.11), so the spelling follows whichever
# option the evaluating nixpkgs declares: `options` (the module argument) says which
# exist, so the same file evaluates on nixos-26.05 and after the move, and only one of
# the two spellings is ever defined.
#
# Priority: one step above mkDefault (mkOverride 900). A host's plain definition (100)
# still wins, and no definition of nixpkgs' own at mkDefault (a profile, or defaults
# the settings-based module may write at that level) can meet ours at the same
# priority, where two different strings would fail evaluation as conflicting.
{ lib, options, ... }:

let
  journal = {
    Storage = "volatile";
    # At most 32 MB of RAM for logs, in files of at most 4 MB.
    RuntimeMaxUse = "32M";
    RuntimeMaxFileSize = "4M";
    MaxRetentionSec = "1month";
  };
in
{
  config =
    if options.services.journald ? settings then {
      services.journald.settings.Journal = lib.mapAttrs (_: lib.mkOverride 900) journal;
    } else {
      services.journald.storage = lib.mkOverride 900 "volatile";
      services.journald.extraConfig = lib.concatStrings (
        lib.mapAttrsToList (k: v: "${k}=${v}\n") (removeAttrs journal [ "Storage" ])
      );
    };
}
