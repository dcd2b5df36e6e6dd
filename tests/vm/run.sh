#!/usr/bin/env bash
# deckd's real-systemd VM suite (issue 5, item 5). Run as root: `tests/vm/run.sh`.
#
#  1. builds the amd64 .deb with cargo-deb (tests/vm/build-deb.sh),
#  2. builds or reuses a Debian bookworm rootfs (tests/vm/rootfs.sh, cached in
#     /var/cache/deckd-vm), copies it with the .deb and the guest test units into a
#     raw ext4 image (mkfs.ext4 -d, no loop mounts),
#  3. boots it under qemu (KVM if /dev/kvm is usable, else TCG): the guest installs
#     the .deb and runs tests/vm/guest/deckd-vm-guest.sh, printing PASS/FAIL lines
#     on the serial console,
#  4. power cuts: boots the same disk again, publishes decks from the host through
#     the forwarded nginx port while recording every acknowledged one, kills qemu
#     with SIGKILL at a random moment, and checks on the next boot that SQLite's
#     integrity_check is ok and every acknowledged deck exists.
#
# Environment: DECKD_VM_ACCEL=kvm|tcg (default: kvm when usable), DECKD_VM_DEB=path
# (skip the build), DECKD_VM_ROUNDS (power cuts, default 3), DECKD_VM_CACHE,
# DECKD_VM_WORK (scratch, default /var/tmp/deckd-vm), DECKD_VM_KEEP=1 (keep scratch).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
VM=$REPO/tests/vm
# deckd_client.py (here and in the guest) imports the shared tests/pyclient/deckd_wire.py.
export PYTHONPATH=$REPO/tests/pyclient
WORK=${DECKD_VM_WORK:-/var/tmp/deckd-vm}
ROUNDS=${DECKD_VM_ROUNDS:-3}
T0=$(date +%s)

fails=0
passes=0
result() { # PASS|FAIL name [why]
    echo "$*"
    if [[ $1 == PASS ]]; then passes=$((passes + 1)); else fails=$((fails + 1)); fi
}
log() { echo "vm-suite: $*" >&2; }
elapsed() { echo $(( $(date +%s) - $1 )); }

if [[ $(id -u) != 0 ]]; then
    echo "vm-suite: needs root (debootstrap, image ownership); run with sudo" >&2
    exit 2
fi
need_pkg() { # command package
    command -v "$1" >/dev/null 2>&1 && return
    log "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
need_pkg qemu-system-x86_64 qemu-system-x86
need_pkg debootstrap debootstrap
need_pkg mkfs.ext4 e2fsprogs

# ------------------------------------------------------------------ build
t=$(date +%s)
if [[ -n ${DECKD_VM_DEB:-} ]]; then
    DEB=$DECKD_VM_DEB
else
    DEB=$("$VM/build-deb.sh") || { result FAIL deb-build "cargo deb failed"; exit 1; }
fi
log "package $DEB ($(elapsed "$t")s)"
T_DEB=$(elapsed "$t")

t=$(date +%s)
ROOTFS=$("$VM/rootfs.sh") || { result FAIL rootfs "debootstrap failed"; exit 1; }
T_ROOTFS=$(elapsed "$t")
log "rootfs $ROOTFS (${T_ROOTFS}s)"

ANKI_PY=$("$VM/anki-wheels.sh") || { result FAIL anki-wheels "pip could not fetch the anki package"; exit 1; }
log "anki package $ANKI_PY"

t=$(date +%s)
rm -rf "$WORK"
mkdir -p "$WORK"
STAGE=$WORK/stage
cp -a "$ROOTFS" "$STAGE"
cp "$STAGE/.vmlinuz" "$WORK/vmlinuz"
cp "$STAGE/.initrd" "$WORK/initrd"
rm -f "$STAGE/.vmlinuz" "$STAGE/.initrd" "$STAGE/.complete"
install -m 0644 "$DEB" "$STAGE/root/"
install -d "$STAGE/usr/local/lib/deckd-vm"
install -m 0755 "$VM/guest/deckd-vm-guest.sh" "$STAGE/usr/local/lib/deckd-vm/"
install -m 0644 "$VM/deckd_client.py" "$REPO/tests/pyclient/deckd_wire.py" \
    "$VM/mdns_query.py" "$VM/anki_sync_login.py" "$STAGE/usr/local/lib/deckd-vm/"
cp -a "$ANKI_PY" "$STAGE/usr/local/lib/deckd-vm/anki-py"
for u in deckd-vm-tests.service deckd-vm-integrity.service; do
    install -m 0644 "$VM/guest/$u" "$STAGE/etc/systemd/system/"
    ln -sf "/etc/systemd/system/$u" "$STAGE/etc/systemd/system/multi-user.target.wants/$u"
done
DISK=$WORK/disk.img
rm -f "$DISK"
truncate -s 3G "$DISK"
mkfs.ext4 -q -F -L deckd-vm -E root_owner=0:0 -d "$STAGE" "$DISK" || { result FAIL image "mkfs.ext4 -d failed"; exit 1; }
rm -rf "$STAGE"
T_IMAGE=$(elapsed "$t")
log "disk image built (${T_IMAGE}s)"

# ------------------------------------------------------------------ qemu
ACCEL=${DECKD_VM_ACCEL:-}
# /dev/kvm may exist and open yet not work (nested virtualisation: seen here,
# qemu aborts on an MSR or the kernel hangs at once), so boot the kernel briefly.
kvm_works() {
    python3 -c "open('/dev/kvm', 'r+b')" 2>/dev/null || return 1
    local probe=$WORK/kvm-probe.log
    timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -display none -no-reboot \
        -kernel "$WORK/vmlinuz" -append "console=ttyS0 panic=-1" -serial "file:$probe" \
        </dev/null >/dev/null 2>&1 &
    local pid=$! i
    for ((i = 0; i < 40; i++)); do
        if grep -aq 'Freeing unused kernel' "$probe" 2>/dev/null; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 0; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    return 1
}
if [[ -z $ACCEL ]]; then
    if kvm_works; then ACCEL=kvm; else ACCEL=tcg; log "KVM unusable here; using TCG"; fi
fi
# shellcheck disable=SC2054  # `tcg,thread=multi` is one -accel argument
if [[ $ACCEL == kvm ]]; then ACCEL_ARGS=(-accel kvm -cpu host); else ACCEL_ARGS=(-accel tcg,thread=multi -cpu max); fi
log "accelerator: $ACCEL"

QEMU_PID=
boot() { # mode logfile hostport
    local mode=$1 logf=$2 port=$3
    : > "$logf"
    qemu-system-x86_64 "${ACCEL_ARGS[@]}" -m 1024 -smp 2 -nodefaults -display none -no-reboot \
        -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd" \
        -append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=0 panic=-1 deckd.mode=$mode" \
        -drive "file=$DISK,format=raw,if=virtio" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-pci,netdev=n0 \
        -serial "file:$logf" </dev/null >"$logf.qemu" 2>&1 &
    QEMU_PID=$!
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits for a marker line (or qemu's exit); echoes new @@DECKD lines as results.
SEEN=0
follow() { # logfile marker timeout_s
    local logf=$1 marker=$2 deadline=$(( $(date +%s) + $3 )) lines line
    while true; do
        mapfile -t lines < <(grep -a -o '@@DECKD .*' "$logf" | tr -d '\r')
        for line in "${lines[@]:$SEEN}"; do
            line=${line#@@DECKD }
            # shellcheck disable=SC2086  # a PASS/FAIL line splits into status and name
            case $line in
                PASS*|FAIL*) result $line ;;
                *) log "guest: $line" ;;
            esac
        done
        SEEN=${#lines[@]}
        printf '%s\n' "${lines[@]}" | grep -q "^@@DECKD $marker" && return 0
        kill -0 "$QEMU_PID" 2>/dev/null || return 1
        (( $(date +%s) > deadline )) && return 2
        sleep 1
    done
}
stop_qemu() { [[ -n $QEMU_PID ]] && kill -9 "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null; QEMU_PID=; }
trap 'stop_qemu; [[ -n ${WRITER:-} ]] && kill "$WRITER" 2>/dev/null' EXIT

# 1. The suite boot.
t=$(date +%s)
SEEN=0
boot suite "$WORK/console-suite.log" "$(free_port)"
follow "$WORK/console-suite.log" "INFO suite starting" 300; rc=$?
T_BOOT=$(elapsed "$t")
log "first boot reached the test unit after ${T_BOOT}s"
if [[ $rc != 0 ]]; then
    result FAIL boot "guest did not start the suite (rc $rc); last console lines:"
    tail -20 "$WORK/console-suite.log" >&2
else
    follow "$WORK/console-suite.log" "SUITE-DONE" 900; rc=$?
    [[ $rc == 0 ]] || result FAIL suite-complete "guest suite did not finish (rc $rc); see $WORK/console-suite.log"
    # Let the guest power off cleanly.
    for ((i = 0; i < 60; i++)); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 1; done
fi
stop_qemu
T_SUITE=$(elapsed "$t")

# 2. Power cuts.
ACKED=$WORK/acked.txt
: > "$ACKED"
T_BOOTS=()
for ((round = 1; round <= ROUNDS + 1; round++)); do
    port=$(free_port)
    logf=$WORK/console-powercut-$round.log
    SEEN=0
    t=$(date +%s)
    boot powercut "$logf" "$port"
    follow "$logf" "READY" 300; rc=$?
    T_BOOTS+=("$(elapsed "$t")")
    if [[ $rc != 0 ]]; then
        result FAIL "powercut-boot-$round" "deckd not ready after boot (rc $rc); see $logf"
        stop_qemu
        break
    fi
    if (( round > 1 )); then
        grep -aq '@@DECKD PASS powercut-integrity-check' "$logf" ||
            result FAIL "powercut-integrity-$round" "no integrity result on the console"
        if out=$(python3 "$VM/deckd_client.py" alive "http://127.0.0.1:$port" "$ACKED" 2>&1); then
            result PASS "powercut-$((round - 1))-acknowledged-writes-present ($out)"
        else
            result FAIL "powercut-$((round - 1))-acknowledged-writes-present" "$out"
        fi
    fi
    (( round > ROUNDS )) && { stop_qemu; break; }
    before=$(wc -l < "$ACKED")
    python3 "$VM/deckd_client.py" writer "http://127.0.0.1:$port" alice alice-password-1 "$ACKED" &
    WRITER=$!
    # Cut the power after a random number (5-30) of newly acknowledged writes, never
    # after a fixed time: a slow machine must not cut before the first write lands.
    want=$(( before + 5 + RANDOM % 26 ))
    for ((w = 0; w < 6000; w++)); do
        (( $(wc -l < "$ACKED") >= want )) && break
        kill -0 "$WRITER" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$QEMU_PID"
    wait "$QEMU_PID" 2>/dev/null
    QEMU_PID=
    kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null; WRITER=
    n=$(( $(wc -l < "$ACKED") - before ))
    log "power cut $round: qemu killed after $n acknowledged publishes"
    (( n > 0 )) || result FAIL "powercut-$round-writes" "no write was acknowledged before the cut"
done

# ------------------------------------------------------------------ summary
T_ALL=$(elapsed "$T0")
echo "vm-suite: timings: deb ${T_DEB}s, rootfs ${T_ROOTFS}s, image ${T_IMAGE}s, first boot to test unit ${T_BOOT}s," \
    "suite boot ${T_SUITE}s, power-cut boots to ready ${T_BOOTS[*]:-none}s, total ${T_ALL}s ($ACCEL)"
echo "vm-suite: $passes passed, $fails failed"
[[ ${DECKD_VM_KEEP:-0} == 1 ]] || rm -f "$DISK"
(( fails == 0 && passes > 0 ))
