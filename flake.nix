{
  description = "deckd: self-hosted server for collaborative Anki decks, as a package, a NixOS module, a Raspberry Pi appliance and its SD image";

  # Pinned in flake.lock to one commit of the nixos-26.05 branch, fetched as GitHub's
  # tarball of that commit (one download, no git history).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # Every file in tests/nixos/ is a check, except helpers whose names start with `_`.
      # A file is a function of { self, pkgs, lib, nixosSystem } returning either a
      # NixOS test module (run with pkgs.testers.runNixOSTest) or a derivation.
      nixosTests = pkgs:
        let
          dir = ./tests/nixos;
          isTest = name: type: type == "regular" && lib.hasSuffix ".nix" name && !lib.hasPrefix "_" name;
          load = name:
            let
              test = import (dir + "/${name}") {
                inherit self pkgs lib;
                inherit (nixpkgs.lib) nixosSystem;
              };
            in
            if lib.isDerivation test then test else pkgs.testers.runNixOSTest test;
        in
        lib.mapAttrs' (name: _: lib.nameValuePair "nixos-${lib.removeSuffix ".nix" name}" (load name))
          (lib.filterAttrs isTest (builtins.readDir dir));
    in
    {
      overlays.default = final: _prev: {
        deckd = final.callPackage ./nixos/package.nix { };
      };

      packages = lib.recursiveUpdate
        (forAllSystems (pkgs: rec {
          deckd = pkgs.callPackage ./nixos/package.nix { };
          default = deckd;
        }))
        {
          # nix build .#packages.aarch64-linux.sd-image
          aarch64-linux.sd-image = self.nixosConfigurations.pi.config.system.build.sdImage;
        };

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.deckd;
          meta.description = "Run the deckd server or one of its admin commands";
        };
      });

      nixosModules = {
        # The service (services.deckd) and its nginx front. The package defaults to
        # this flake's build, so another flake only needs to import the module.
        #
        # The `key` makes the module system load it once however often it is imported
        # (lib/modules.nix: unifyModuleSyntax keeps `m.key`, collectModules skips a key
        # it has seen), so a host may import both `deckd` and `default`.
        deckd = {
          key = "deckd#module";
          imports = [
            ./modules/deckd
            ({ lib, pkgs, ... }: {
              services.deckd.package = lib.mkDefault (
                self.packages.${pkgs.stdenv.hostPlatform.system}.deckd
                  or (pkgs.callPackage ./nixos/package.nix { })
              );
            })
          ];
        };
        # OS tuning for a small always-on box booting from an SD card.
        appliance = ./modules/appliance;
        default = {
          key = "deckd#default";
          imports = [ self.nixosModules.deckd self.nixosModules.appliance ];
        };
      };

      nixosConfigurations = {
        # The Raspberry Pi (3, 4, Zero 2 W) booting from the SD image.
        pi = nixpkgs.lib.nixosSystem {
          modules = [ self.nixosModules.default ./nixos/pi.nix ];
        };
        # Its x86_64 twin: same modules minus the hardware (nixos-rebuild build-vm).
        vm = nixpkgs.lib.nixosSystem {
          modules = [ self.nixosModules.default ./nixos/vm.nix ];
        };
      };

      checks.x86_64-linux =
        let
          pkgs = nixpkgs.legacyPackages.x86_64-linux;
        in
        {
          package = self.packages.x86_64-linux.deckd;
          vm-system = self.nixosConfigurations.vm.config.system.build.toplevel;
          formatting = pkgs.runCommand "deckd-nix-lint"
            {
              nativeBuildInputs = [ pkgs.nixpkgs-fmt pkgs.deadnix ];
            } ''
            cd ${self}
            files=$(find . -name '*.nix' -not -path './target/*' | sort)
            nixpkgs-fmt --check $files
            deadnix --fail $files
            touch $out
          '';
        } // nixosTests pkgs;

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.deckd ];
          packages = [
            pkgs.clippy
            pkgs.rustfmt
            pkgs.rust-analyzer
            pkgs.sqlite
            pkgs.nixpkgs-fmt
            pkgs.deadnix
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixpkgs-fmt);
    };
}
