# The unit as declared is the unit in force: every [Unit]/[Service] line of
# dist/systemd/service-settings.toml is in the generated unit, the kernel enforces the
# limits (cgroup files) and the sandbox (no new privileges, seccomp, no capabilities,
# read-only /etc), and the appliance profile's OS tuning is live (sysctl, tmpfs /tmp,
# zram swap, volatile journal, no emergency mode). A second machine overrides a limit,
# proving the shared settings are only defaults.
# Modelled on nixpkgs nixos/tests/systemd-oomd.nix and nixos/tests/nginx.nix.
{ self, lib, ... }:
let
  unitSettings = builtins.fromTOML (builtins.readFile ../../dist/systemd/service-settings.toml);
  render = v:
    if builtins.isBool v then (if v then "true" else "false")
    else toString v;
  # `Key=value` lines NixOS writes for each setting (a list gives one line per item).
  expectedLines = section:
    lib.concatLists (lib.mapAttrsToList
      (k: v: map (x: "${k}=${render x}") (lib.toList v))
      (unitSettings.${section} or { }));
  overridable = [ "User" "Group" ];
  serviceLines = lib.filter (l: !(lib.any (k: lib.hasPrefix "${k}=" l) overridable)) (expectedLines "Service");
in
{
  name = "deckd-limits-sandbox";

  nodes.machine = {
    imports = [ (import ./_server.nix { inherit self; }) ];
  };

  nodes.tuned = {
    imports = [ (import ./_server.nix { inherit self; }) ];
    systemd.services.deckd.serviceConfig.MemoryMax = "192M";
  };

  testScript = ''
    import json

    start_all()
    machine.wait_for_unit("deckd.service")
    unit = machine.succeed("systemctl cat deckd.service")

    with subtest("every line of the shared settings file is in the unit"):
        for line in json.loads(${builtins.toJSON (builtins.toJSON (expectedLines "Unit" ++ serviceLines))}):
            assert line in unit.splitlines(), f"missing in deckd.service: {line}"
        assert "User=deckd" in unit.splitlines()

    pid = machine.succeed("systemctl show -p MainPID --value deckd").strip()
    cg = "/sys/fs/cgroup/system.slice/deckd.service"

    with subtest("limits are enforced by the cgroup"):
        service = json.loads(${builtins.toJSON (builtins.toJSON unitSettings.Service)})

        def size(v):
            v = str(v)
            units = {"K": 1024, "M": 1024**2, "G": 1024**3}
            return str(int(v[:-1]) * units[v[-1]]) if v[-1] in units else v

        assert machine.succeed(f"cat {cg}/memory.max").strip() == size(service["MemoryMax"])
        if "MemoryHigh" in service:
            assert machine.succeed(f"cat {cg}/memory.high").strip() == size(service["MemoryHigh"])
        assert machine.succeed(f"cat {cg}/pids.max").strip() == str(service["TasksMax"])
        quota = int(str(service["CPUQuota"]).rstrip("%")) * 1000
        assert machine.succeed(f"cat {cg}/cpu.max").strip() == f"{quota} 100000"

    with subtest("the sandbox is in force"):
        assert machine.succeed(f"stat -c %U /proc/{pid}").strip() == "deckd"
        machine.succeed(f"grep -E '^NoNewPrivs:\\s+1$' /proc/{pid}/status")
        machine.succeed(f"grep -E '^Seccomp:\\s+2$' /proc/{pid}/status")
        machine.succeed(f"grep -E '^CapEff:\\s+0+$' /proc/{pid}/status")
        # ProtectSystem=strict: even root cannot write /etc or /usr inside deckd's namespace.
        machine.fail(f"nsenter -t {pid} -m -- touch /etc/deckd-probe")
        machine.succeed(f"nsenter -t {pid} -m -- touch /var/lib/deckd/.probe && rm /var/lib/deckd/.probe")
        # PrivateTmp: deckd's /tmp is not the host's.
        machine.succeed("touch /tmp/host-only")
        machine.fail(f"nsenter -t {pid} -m -- test -e /tmp/host-only")
        assert machine.succeed("stat -c %a /var/lib/deckd").strip() == "750"
        machine.succeed("id -nG nginx | grep -w deckd")
        print(machine.succeed("systemd-analyze security deckd.service | tail -n 1"))

    with subtest("the appliance tuning is live"):
        for key, value in [("vm.swappiness", "10"), ("vm.dirty_ratio", "15"),
                           ("vm.dirty_background_ratio", "5"), ("net.core.rmem_max", "16777216"),
                           ("net.core.wmem_max", "16777216")]:
            got = machine.succeed(f"sysctl -n {key}").strip()
            assert got == value, f"{key}={got}, expected {value}"
        assert machine.succeed("findmnt -n -o FSTYPE /tmp").strip() == "tmpfs"
        machine.wait_until_succeeds("swapon --show=NAME --noheadings | grep -q zram")
        machine.succeed("journalctl --header | grep -q '/run/log/journal'")
        machine.fail("journalctl --header | grep -q '/var/log/journal'")
        assert machine.succeed("systemctl show -p LoadState --value emergency.service").strip() != "loaded"
        machine.succeed("systemctl list-timers nix-gc.timer | grep -q nix-gc")

    with subtest("the one-time admin password went to the journal, once"):
        machine.succeed("journalctl -u deckd-initial-admin | grep -q 'One-time password'")
        machine.succeed("deckd user list | grep -w admin")

    with subtest("the shared settings are defaults a host can override"):
        tuned.wait_for_unit("deckd.service")
        assert tuned.succeed(f"cat {cg}/memory.max").strip() == str(192 * 1024 * 1024)
  '';
}
