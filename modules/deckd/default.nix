# services.deckd: the deckd server as a NixOS service, one concern per file.
{
  imports = [
    ./options.nix
    ./service.nix
    ./nginx.nix
    ./initial-admin.nix
    ./console-banner.nix
    ./anki-sync.nix
  ];
}
