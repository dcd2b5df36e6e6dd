# Shared by the VM tests: a client machine with `deckd-client` (_client.py, which
# imports ../pyclient/deckd_wire.py), the add-on stand-in. Not a test itself (leading `_`).
{ pkgs, ... }:
{
  environment.systemPackages = [
    pkgs.curl
    (pkgs.writeShellScriptBin "deckd-client" ''
      export PYTHONPATH=${../pyclient}
      exec ${pkgs.python3.interpreter} ${./_client.py} "$@"
    '')
  ];
}
