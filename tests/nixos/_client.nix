# Shared by the VM tests: a client machine with `deckd-client` (_client.py), the
# add-on stand-in. Not a test itself (leading `_`).
{ pkgs, ... }:
{
  environment.systemPackages = [
    pkgs.curl
    (pkgs.writeShellScriptBin "deckd-client" ''
      exec ${pkgs.python3.interpreter} ${./_client.py} "$@"
    '')
  ];
}
