# A bad `settings` value fails the build, not the boot: the configuration file is
# built by running `deckd check-config` on it. Values deckd rejects (a public_url that
# is not http(s), a key deckd does not know) make that derivation fail with deckd's
# message; a value of the wrong Nix type fails evaluation; a good value builds.
# Uses pkgs.testers.testBuildFailure (nixpkgs pkgs/build-support/testers).
{ self, pkgs, nixosSystem, ... }:
let
  configFileFor = settings:
    (nixosSystem {
      modules = [
        self.nixosModules.deckd
        {
          nixpkgs.hostPlatform = pkgs.stdenv.hostPlatform.system;
          services.deckd = {
            enable = true;
            inherit settings;
          };
        }
      ];
    }).config.services.deckd.configFile;

  wrongType = builtins.tryEval (configFileFor { worker_threads = 0; }).drvPath;
in
assert !wrongType.success;
pkgs.runCommand "deckd-bad-settings-fail-the-build"
{
  badUrl = pkgs.testers.testBuildFailure (configFileFor { public_url = "ftp://decks.example.org"; });
  unknownKey = pkgs.testers.testBuildFailure (configFileFor { no_such_key = 1; });
  good = configFileFor { worker_threads = 3; };
} ''
  grep -F "public_url must start with http:// or https://" $badUrl/testBuildFailure.log
  grep -F "no_such_key" $unknownKey/testBuildFailure.log
  grep -Fx "worker_threads = 3" $good
  touch $out
''
