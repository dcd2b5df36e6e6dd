# The deckd package: one Rust binary (server + admin CLI).
# Used by flake.nix (packages.*.deckd, overlays.default) and by the module as a fallback.
{ lib, rustPlatform }:

let
  cargoToml = lib.importTOML ../Cargo.toml;

  # Only what `cargo build` and `cargo test` read, so editing docs, CI scripts or the
  # NixOS files does not rebuild the package.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      # Tells cargo to rebuild when a migration is added.
      ../build.rs
      ../src
      # Embedded at compile time by sqlx::migrate!.
      ../migrations
      # Cargo.toml declares [[bench]] name = "load": the manifest does not parse without it.
      ../benches
      # Integration tests (they spawn the built binary on 127.0.0.1:0, which the sandbox allows).
      (lib.fileset.difference ../tests (lib.fileset.maybeMissing ../tests/nixos))
      # Unit settings data file, read by the unit-file test.
      (lib.fileset.maybeMissing ../dist)
    ];
  };
in
rustPlatform.buildRustPackage {
  pname = "deckd";
  inherit (cargoToml.package) version;
  inherit src;

  cargoLock.lockFile = ../Cargo.lock;

  # No SQL macros are checked against a live database (plain sqlx::query + migrate!),
  # so the build needs neither DATABASE_URL nor offline query data.

  # The check phase runs `cargo test`: HTTP over loopback on a real SQLite file, and
  # the CLI tests that spawn target/*/deckd. The builder is not root, so deckd's
  # refusal to run as root does not get in the way.
  doCheck = true;
  # The tests build with Cargo's `ci` profile (release optimisation without fat LTO,
  # 16 codegen units; Cargo.toml), as tests/run-all does, instead of the `release`
  # profile the binary is built with: each integration-test binary would
  # take a fat-LTO link. nixpkgs' cargoCheckHook passes `--profile <checkType>` for
  # any checkType other than "debug" (pkgs/build-support/rust/hooks/cargo-check-hook.sh,
  # cargoCheckType set from checkType in build-rust-package/default.nix).
  checkType = "ci";

  meta = {
    description = "Self-hosted server for collaborative Anki decks (AnkiCollab add-on protocol)";
    license = lib.licenses.agpl3Plus;
    mainProgram = "deckd";
    platforms = lib.platforms.linux;
  };
}
