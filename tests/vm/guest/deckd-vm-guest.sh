#!/bin/bash
# shellcheck disable=SC2016  # `check NAME bash -c '...'` expands inside the inner shell
# Runs inside the VM, started by deckd-vm-tests.service (or, with "integrity",
# by deckd-vm-integrity.service before deckd starts). Every result is a line
#   @@DECKD PASS name        or        @@DECKD FAIL name: why
# on the serial console, which the host (tests/vm/run.sh) collects.
# The mode comes from the kernel command line: deckd.mode=suite|powercut.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
exec 3>/dev/ttyS0
say() { echo "@@DECKD $*" >&3; echo "$*"; }
pass() { say "PASS $1"; }
fail() { say "FAIL $1: ${*:2}"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi; }

MODE=$(sed -n 's/.*deckd\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
DB=/var/lib/deckd/deckd.sqlite3
LIB=/usr/local/lib/deckd-vm
API=http://127.0.0.1:8080
FRONT=http://127.0.0.1
# How an admin runs deckd's commands on the host (see dist/deckd.toml).
as_deckd() { local cmd=$1; shift; runuser -u deckd -- "$cmd" --config /etc/deckd/deckd.toml "$@"; }
show() { systemctl show -p "$1" --value deckd.service; }
ready() { curl -fsS -m 5 -o /dev/null "$API/readyz"; }
wait_ready() { # seconds
    local i
    for ((i = 0; i < $1 * 2; i++)); do ready && return 0; sleep 0.5; done
    return 1
}

# ------------------------------------------------------------------ power cut
if [[ ${1:-} == integrity ]]; then
    # Before deckd opens the database after an unclean stop: SQLite's own recovery
    # (as the deckd user, so -wal/-shm keep their owner) and a full check.
    if [[ -f $DB ]]; then
        res=$(runuser -u deckd -- sqlite3 "$DB" 'PRAGMA integrity_check;' 2>&1 | tr '\n' ' ')
        n=$(runuser -u deckd -- sqlite3 "$DB" 'SELECT count(*) FROM decks;' 2>&1)
        if [[ $res == "ok " ]]; then pass "powercut-integrity-check ($n decks)"; else fail powercut-integrity-check "$res"; fi
    else
        say "INFO no database yet"
    fi
    exit 0
fi

if [[ $MODE == powercut ]]; then
    if wait_ready 90 && curl -fsS -m 5 -o /dev/null "$FRONT/readyz"; then
        say "READY"
    else
        fail powercut-boot "deckd not ready after boot: $(systemctl is-active deckd) $(show Result)"
    fi
    exit 0
fi

# ------------------------------------------------------------------ the suite
say "INFO suite starting on $(uname -r), systemd $(systemctl --version | head -1)"

# Install the package under test, as an admin would.
# shellcheck disable=SC2012  # our own package file
deb=$(ls /root/deckd_*.deb | head -1)
if out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" 2>&1); then
    pass "deb-install"
else
    fail deb-install "$(echo "$out" | tail -5 | tr '\n' ' ')"
fi
# The default config names media_accel_prefix; a binary without media support
# rejects it (unknown field). Report that and go on without the line.
config_ok() { # name
    local err
    if err=$(as_deckd deckd check-config 2>&1 >/dev/null); then
        pass "$1"
    else
        fail "$1" "$(echo "$err" | tr '\n' ' ')"
        if grep -q media_accel_prefix <<<"$err"; then
            sed -i 's/^media_accel_prefix/# media_accel_prefix/' /etc/deckd/deckd.toml
            systemctl restart --no-block deckd
        fi
    fi
}
config_ok config-default-valid
check deb-user-exists getent passwd deckd
check deb-www-data-in-deckd-group bash -c 'id -nG www-data | grep -qw deckd'
check deb-nginx-site-enabled test -L /etc/nginx/sites-enabled/deckd
check deb-unit-enabled systemctl is-enabled --quiet deckd
check deb-conffile bash -c 'dpkg-query -W -f="\${Conffiles}" deckd | grep -q /etc/deckd/deckd.toml'
check deb-config-mode bash -c '[[ $(stat -c %a:%U:%G /etc/deckd/deckd.toml) == 640:root:deckd ]]'
check sysctl-applied bash -c '[[ $(sysctl -n vm.swappiness) == 10 && $(sysctl -n vm.dirty_ratio) == 15 && $(sysctl -n net.core.rmem_max) == 16777216 ]]'

# Local admin steps of the VM (documented in dist/nginx/deckd.conf): our site is
# the default one, media URLs point at nginx.
rm -f /etc/nginx/sites-enabled/default
sed -i 's|^public_url = .*|public_url = "http://127.0.0.1"|' /etc/deckd/deckd.toml
systemctl reload nginx

# 1. Readiness: `systemctl start` returns only once /readyz answers.
systemctl stop deckd
# While deckd is down nginx answers the console itself (502): nginx's own security
# headers stand in for deckd's, each exactly once (dist/nginx/deckd.conf, the maps).
code=$(curl -sS -m 10 -o /dev/null -D /tmp/down.h -w '%{http_code}' "$FRONT/console/login")
ncsp=$(grep -ci '^content-security-policy:' /tmp/down.h)
if [[ $code == 502 && $ncsp == 1 ]] && grep -qi "^content-security-policy: default-src 'none'; frame-ancestors 'none'" /tmp/down.h &&
    [[ $(grep -ci '^x-frame-options: DENY' /tmp/down.h) == 1 ]]; then
    pass "console-nginx-error-headers (502, one CSP)"
else
    fail console-nginx-error-headers "status $code, $ncsp CSP headers: $(tr '\r\n' '  ' </tmp/down.h)"
fi
if timeout 120 systemctl start deckd; then
    if ready; then pass "start-returns-when-ready"; else fail start-returns-when-ready "/readyz not answering right after systemctl start"; fi
    status=$(show StatusText)
    if [[ -n $status ]]; then pass "status-text ($status)"; else fail status-text "StatusText is empty"; fi
else
    fail start-returns-when-ready "systemctl start failed: $(show Result); $(journalctl -u deckd -n 5 --no-pager -o cat | tr '\n' ' ')"
    fail status-text "service did not start"
    # Keep testing the rest with a plain service so one missing feature does not hide the others.
    # (in /etc, so the power-cut boots can use it too; reported below)
    mkdir -p /etc/systemd/system/deckd.service.d
    printf '[Service]\nType=exec\nWatchdogSec=0\n' > /etc/systemd/system/deckd.service.d/zz-vm-no-notify.conf
    say "INFO deckd runs as Type=exec for the rest of the suite (no readiness notification)"
    systemctl daemon-reload
    systemctl reset-failed deckd
    systemctl start deckd
    wait_ready 60 || fail deckd-fallback-start "deckd does not start even as Type=exec"
fi

# 1b. One client address gets 128 connections through nginx: 128 requests whose bodies
#     trickle (streamed on to deckd) hold them, the 129th is answered 429 with
#     Retry-After, and once they close the client is served again.
if out=$(timeout 60 python3 - <<'PY' 2>&1
import socket
held = []
for _ in range(128):
    s = socket.create_connection(("127.0.0.1", 80), timeout=20)
    s.sendall(b"POST /pullChanges HTTP/1.1\r\nHost: deckd\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    held.append(s)
def head():
    s = socket.create_connection(("127.0.0.1", 80), timeout=20)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: deckd\r\nConnection: close\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    return got.split(b"\r\n\r\n")[0].decode(errors="replace")
over = head()
for s in held:
    s.close()
import time
for _ in range(100):
    again = head().split("\r\n")[0]
    if " 200 " in again + " ":
        break
    time.sleep(0.1)
print(over.split("\r\n")[0], "|", again)
assert " 429" in over.split("\r\n")[0], over
assert "retry-after: 5" in over.lower(), over
assert " 200" in again
PY
); then
    pass "nginx-connections-per-client ($out)"
else
    fail nginx-connections-per-client "$out"
fi

# 2. The web console through nginx, before any account exists: the first-boot setup
#    page, deckd's own CSP alone, immutable static files, setup with the token from
#    `deckd setup-token`, and the event stream reaching the browser unbuffered.
status_until() { # seconds wanted [unwanted]: bounded wait until StatusText has one and not the other
    local i st
    for ((i = 0; i < $1 * 2; i++)); do
        st=$(show StatusText)
        [[ $st == *"$2"* && ( -z ${3:-} || $st != *"$3"* ) ]] && return 0
        sleep 0.5
    done
    return 1
}
get() { # path headers-file [curl args...]: prints the status code; the body goes where -o says
    local path=$1 h=$2; shift 2
    curl -sS -m 15 -D "$h" -w '%{http_code}' "$@" "$FRONT$path"
}
# The value of one response header (the first, lower-cased name), without the CR.
header() { grep -i "^$1:" "$2" | head -1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'; }
if status_until 30 'SETUP PENDING'; then pass "console-status-setup-pending"; else
    fail console-status-setup-pending "StatusText: $(show StatusText)"
fi
code=$(get / /tmp/c.h -o /dev/null)
if [[ $code == 303 && $(header location /tmp/c.h) == /console ]]; then pass "console-root-redirect"; else
    fail console-root-redirect "GET / answered $code to '$(header location /tmp/c.h)'"
fi
code=$(get /console/setup /tmp/setup.h -o /tmp/setup.html)
if [[ $code == 200 ]] && grep -q 'Set up this deckd box' /tmp/setup.html; then pass "console-setup-page"; else
    fail console-setup-page "GET /console/setup answered $code: $(head -c 200 /tmp/setup.html)"
fi
# mDNS (what the NixOS appliance does with services.avahi): avahi publishes the box as
# deckd.local with an _http._tcp record. Resolved here through nss-mdns (getaddrinfo,
# as a browser on the box would) and, like another machine on the LAN, by a raw mDNS
# query from a separate network namespace joined to the box by a veth pair; the
# console loads through the name both ways.
sed -i 's/^#\?host-name=.*/host-name=deckd/' /etc/avahi/avahi-daemon.conf
cat > /etc/avahi/services/deckd.service <<'EOF'
<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name replace-wildcards="yes">deckd on %h</name>
  <service><type>_http._tcp</type><port>80</port><txt-record>path=/console</txt-record></service>
</service-group>
EOF
ip link add mdns-box type veth peer name mdns-lan
ip netns add lan
ip link set mdns-lan netns lan
ip addr add 10.77.0.1/24 dev mdns-box
ip link set mdns-box up
ip -n lan addr add 10.77.0.2/24 dev mdns-lan
ip -n lan link set mdns-lan up
ip -n lan link set lo up
ip -n lan route add default via 10.77.0.1
systemctl restart avahi-daemon
mdns_until() { # seconds command...: bounded retry of an mDNS look-up
    local i n=$1; shift
    for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 1; done
    return 1
}
if mdns_until 30 avahi-resolve -4 -n deckd.local >/tmp/mdns.resolve 2>&1; then
    pass "mdns-avahi-publishes ($(tr '\t\n' '  ' </tmp/mdns.resolve))"
else
    fail mdns-avahi-publishes "avahi-resolve: $(cat /tmp/mdns.resolve); $(systemctl is-active avahi-daemon)"
fi
# -k: raw service types (not "Web Site"); a resolved record ("=" line) may come only
# on a later look-up, once avahi has resolved it.
service_record() { avahi-browse -krtp _http._tcp 2>/dev/null | grep -q '^=.*;_http._tcp;local;deckd\.local;.*;80;"path=/console"'; }
if mdns_until 15 service_record; then
    pass "mdns-http-service-record"
else
    fail mdns-http-service-record "$(avahi-browse -krtp _http._tcp 2>&1 | head -5 | tr '\n' ' ')"
fi
if grep -q '^hosts:.*mdns4_minimal' /etc/nsswitch.conf && mdns_until 10 getent hosts deckd.local >/tmp/mdns.getent; then
    code=$(curl -sS -m 15 -o /tmp/mdns.html -w '%{http_code}' http://deckd.local/console/setup)
    if [[ $code == 200 ]] && grep -q 'Set up this deckd box' /tmp/mdns.html; then
        pass "mdns-console-by-name-nss ($(head -1 /tmp/mdns.getent | tr -s ' '))"
    else
        fail mdns-console-by-name-nss "http://deckd.local/console/setup answered $code"
    fi
else
    fail mdns-console-by-name-nss "nss-mdns: $(grep '^hosts:' /etc/nsswitch.conf); getent: $(cat /tmp/mdns.getent 2>/dev/null)"
fi
if lan_ip=$(mdns_until 20 ip netns exec lan python3 "$LIB/mdns_query.py" deckd.local 10.77.0.2 3 2>/tmp/mdns.err); then
    code=$(ip netns exec lan curl -sS -m 15 --resolve "deckd.local:80:$lan_ip" -o /tmp/mdns-lan.html -w '%{http_code}' \
        http://deckd.local/console/setup)
    if [[ $lan_ip == 10.77.0.1 && $code == 200 ]] && grep -q 'Set up this deckd box' /tmp/mdns-lan.html; then
        pass "mdns-console-by-name-from-lan (deckd.local is $lan_ip)"
    else
        fail mdns-console-by-name-from-lan "deckd.local answered as '$lan_ip', console $code"
    fi
else
    fail mdns-console-by-name-from-lan "no mDNS answer in the lan namespace: $(tail -2 /tmp/mdns.err | tr '\n' ' ')"
fi

# The group's Anki sync server behind the same nginx under /anki-sync/ (dist/nginx):
# Anki's own server from the `anki` package, run like nixpkgs' anki-sync-server unit
# (a dynamic user, its state directory, users from SYNC_USER1...), and a real Anki
# client (the same package) signing in and syncing through nginx and the name.
systemd-run --quiet --unit anki-sync -p DynamicUser=yes -p StateDirectory=anki-sync \
    --setenv=PYTHONPATH="$LIB/anki-py" --setenv=SYNC_USER1=member:anki-member-pass-1 \
    --setenv=SYNC_HOST=127.0.0.1 --setenv=SYNC_PORT=27701 --setenv=SYNC_BASE=/var/lib/anki-sync \
    python3 -m anki.syncserver
for ((i = 0; i < 120; i++)); do curl -fsS -m 2 -o /dev/null http://127.0.0.1:27701/health 2>/dev/null && break; sleep 0.5; done
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$FRONT/anki-sync/health")
if [[ $code == 200 ]]; then pass "anki-sync-health-through-nginx"; else
    fail anki-sync-health-through-nginx "GET /anki-sync/health answered $code; $(journalctl -u anki-sync -n 5 --no-pager -o cat | tr '\n' ' ')"
fi
if out=$(PYTHONPATH="$LIB/anki-py" HOME=/tmp timeout 120 python3 "$LIB/anki_sync_login.py" \
    http://deckd.local/anki-sync/ member anki-member-pass-1 2>&1); then
    pass "anki-sync-login-through-nginx ($(tail -1 <<<"$out"))"
else
    fail anki-sync-login-through-nginx "$(tail -3 <<<"$out" | tr '\n' ' ')"
fi
systemctl stop anki-sync

csp=$(header content-security-policy /tmp/setup.h)
ncsp=$(grep -ci '^content-security-policy:' /tmp/setup.h)
if [[ $ncsp == 1 && $csp == *"script-src 'self'"* && $csp == *"style-src 'self'"* ]] &&
    [[ $(grep -ci '^x-frame-options:' /tmp/setup.h) == 1 && $(grep -ci '^referrer-policy:' /tmp/setup.h) == 1 ]] &&
    [[ $(header referrer-policy /tmp/setup.h) == same-origin ]] && grep -qi '^permissions-policy:' /tmp/setup.h; then
    pass "console-one-csp-deckds"
else
    fail console-one-csp-deckds "$ncsp CSP headers ('$csp'); headers: $(tr '\r\n' '  ' </tmp/setup.h)"
fi
code=$(get /console/setup /tmp/gz.h -o /dev/null -H 'Accept-Encoding: gzip')
if [[ $code == 200 && $(header content-encoding /tmp/gz.h) == gzip ]]; then pass "console-page-gzip"; else
    fail console-page-gzip "status $code, content-encoding '$(header content-encoding /tmp/gz.h)'"
fi
css=$(grep -o '/console/static/console\.[0-9a-f]*\.css' /tmp/setup.html | head -1)
code=$(get "${css:-/console/static/missing.css}" /tmp/css.h -o /tmp/console.css)
if [[ -n $css && $code == 200 && $(header cache-control /tmp/css.h) == "public, max-age=31536000, immutable" &&
    $(grep -ci '^cache-control:' /tmp/css.h) == 1 && $(header content-type /tmp/css.h) == text/css* && -s /tmp/console.css ]]; then
    pass "console-static-immutable ($css)"
else
    fail console-static-immutable "'$css' answered $code: $(tr '\r\n' '  ' </tmp/css.h)"
fi
code=$(get /console/events /tmp/ev0.h -o /dev/null)
if [[ $code == 303 && $(header location /tmp/ev0.h) == /console/login* ]]; then pass "console-events-needs-session"; else
    fail console-events-needs-session "GET /console/events without a session answered $code to '$(header location /tmp/ev0.h)'"
fi
# The setup form as a browser sends it (same-origin fetch metadata), through nginx.
rm -f /tmp/jar
setup_token=$(as_deckd deckd setup-token 2>&1)
# STATUS is readable by every local user: it says where the token is, never the token.
st=$(show StatusText)
if [[ -n $setup_token && $st == *"SETUP PENDING"* && $st != *"$setup_token"* ]]; then pass "console-status-hides-token"; else
    fail console-status-hides-token "token '${setup_token:0:60}', StatusText: $st"
fi
code=$(get /console/setup /tmp/done.h -o /tmp/done.html -c /tmp/jar -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode "token=$setup_token" --data-urlencode username=vmadmin --data-urlencode password=vm-admin-password-1)
if [[ $code == 303 ]] && grep -q deckd_session /tmp/jar; then pass "console-setup-through-nginx"; else
    fail console-setup-through-nginx "token '${setup_token:0:60}', POST answered $code: $(head -c 200 /tmp/done.html)"
fi
# The event stream with that session: its headers arrive while the answer is still
# open (nginx passes them on at once), then deckd's keep-alive comment (every 15 s)
# arrives although it is 3 bytes: nginx buffers nothing of the stream.
rm -f /tmp/ev.h /tmp/ev.body
curl -sS -N -m 60 -D /tmp/ev.h -o /tmp/ev.body -b /tmp/jar "$FRONT/console/events" 2>/dev/null &
ev_pid=$!
for ((i = 0; i < 20; i++)); do grep -q $'^\r$' /tmp/ev.h 2>/dev/null && break; sleep 0.5; done
if head -1 /tmp/ev.h 2>/dev/null | grep -q ' 200' && [[ $(header content-type /tmp/ev.h) == text/event-stream* ]] &&
    kill -0 "$ev_pid" 2>/dev/null; then
    pass "console-events-stream-opens"
else
    fail console-events-stream-opens "headers after 10 s: $(tr '\r\n' '  ' </tmp/ev.h 2>/dev/null)"
fi
for ((i = 0; i < 60; i++)); do [[ -s /tmp/ev.body ]] && break; kill -0 "$ev_pid" 2>/dev/null || break; sleep 0.5; done
if [[ $(head -c 1 /tmp/ev.body 2>/dev/null) == [:e] ]] && kill -0 "$ev_pid" 2>/dev/null; then
    pass "console-events-unbuffered (keep-alive through nginx, stream still open)"
else
    fail console-events-unbuffered "body so far: '$(od -c /tmp/ev.body 2>/dev/null | head -2 | tr '\n' ' ')'"
fi
kill "$ev_pid" 2>/dev/null; wait "$ev_pid" 2>/dev/null
# Set up: the monitor's next STATUS line (every 15 s) no longer says SETUP PENDING.
if status_until 60 'requests served' 'SETUP PENDING'; then
    pass "console-status-after-setup ($(show StatusText | cut -c1-60))"
else
    fail console-status-after-setup "StatusText: $(show StatusText)"
fi

# 3. Users, created the documented way (password on stdin), and the add-on flow through nginx.
echo alice-password-1 | as_deckd deckd user add alice >/dev/null 2>&1 && \
echo bob-password-1 | as_deckd deckd user add bob >/dev/null 2>&1
check cli-user-add test $? -eq 0
python3 $LIB/deckd_client.py flow "$FRONT" >/tmp/flow.out 2>/tmp/flow.err
while read -r line; do say "$line"; done </tmp/flow.out
[[ -s /tmp/flow.err ]] && fail flow-client "$(tail -1 /tmp/flow.err)"

# 4. Journal: structured fields of one authenticated request, found by its request id.
rid=vmtest-$RANDOM$RANDOM
token=$(curl -fsS -m 10 -H 'Content-Type: application/json' -d '{"username":"alice","password":"alice-password-1"}' "$API/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
curl -fsS -m 5 -o /dev/null -H "X-Request-Id: $rid" -H "Authorization: Bearer $token" "$API/GetNotifications"
sleep 2
jout=$(journalctl -u deckd -o json --no-pager -n 500 | python3 -c '
import json, sys
rid = sys.argv[1]
# systemd-journal-logger writes info records as PRIORITY 5 (notice).
want = {"REQUEST_ID": rid, "METHOD": "GET", "ROUTE": "/GetNotifications", "STATUS": "200", "USER": "alice", "PRIORITY": "5"}
for line in sys.stdin:
    e = json.loads(line)
    if e.get("REQUEST_ID") == rid and "LATENCY_MS" in e:
        bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
        if bad:
            print(f"entry for {rid} has {bad}, want {want}"); sys.exit(1)
        print(" ".join(f"{k}={e[k]}" for k in [*want, "LATENCY_MS"])); sys.exit(0)
print(f"no journal entry with REQUEST_ID={rid} and LATENCY_MS"); sys.exit(1)
' "$rid")
# shellcheck disable=SC2181  # the status of the long python check above
if [[ $? -eq 0 ]]; then pass "journal-structured-fields ($jout)"; else
    fail journal-structured-fields "$jout; sample: $(journalctl -u deckd -o json -n 1 --no-pager | cut -c1-300)"
fi

# 5. Limits and sandbox in force.
pid=$(show MainPID)
expect_prop() { local v; v=$(show "$1"); if [[ $v == "$2" ]]; then pass "unit-$1=$2"; else fail "unit-$1" "is '$v', want '$2'"; fi; }
expect_prop MemoryMax 268435456
expect_prop CPUQuotaPerSecUSec 1.500000s
expect_prop TasksMax 50
expect_prop ProtectSystem strict
expect_prop ProtectHome yes
expect_prop PrivateTmp yes
expect_prop NoNewPrivileges yes
expect_prop UMask 0027
expect_prop Restart on-failure
expect_prop Type notify
expect_prop NotifyAccess main
expect_prop WatchdogUSec 30s
cg=/sys/fs/cgroup$(show ControlGroup)
check cgroup-limits-in-force bash -c "[[ \$(cat $cg/memory.max) == 268435456 && \$(cat $cg/pids.max) == 50 && \$(cat $cg/cpu.max) == '150000 100000' ]]"
user=$(ps -o user= -p "$pid" | tr -d ' ')
if [[ $user == deckd ]]; then pass "runs-as-deckd"; else fail runs-as-deckd "main process $pid runs as '$user'"; fi
check no-capabilities bash -c "grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/$pid/status"
check readonly-root bash -c "[[ $pid -gt 0 ]] && nsenter -t $pid -m sh -c 'touch /usr/deckd-probe' 2>/dev/null; [[ ! -e /usr/deckd-probe ]]"
check data-dir-owner bash -c '[[ $(stat -c %U:%G:%a /var/lib/deckd) == deckd:deckd:750 ]]'
sec=$(systemd-analyze security deckd.service --no-pager 2>&1)
level=$(echo "$sec" | sed -n 's/.*Overall exposure level for deckd.service: \([0-9.]*\).*/\1/p')
if [[ -n $level ]] && python3 -c "import sys; sys.exit(0 if float('$level') <= 2.0 else 1)"; then
    pass "security-exposure ($level)"
else
    fail security-exposure "level '$level' > 2.0; worst: $(echo "$sec" | grep '✗' | sort -t' ' -k1 | head -8 | tr -s ' ' | tr '\n' ';')"
fi

# 6. Watchdog: a stopped main process is killed and restarted.
nr0=$(show NRestarts)
pid0=$(show MainPID)
kill -STOP "$pid0"
saw_watchdog=no
for ((i = 0; i < 150; i++)); do
    [[ $(show Result) == watchdog ]] && saw_watchdog=yes
    if [[ $(show NRestarts) -gt $nr0 && $(show MainPID) != "$pid0" && $(show MainPID) != 0 ]] && ready; then break; fi
    sleep 0.5
done
journalctl -u deckd --no-pager -o cat | grep -qi 'watchdog timeout' && saw_watchdog=yes
nr1=$(show NRestarts)
if [[ $saw_watchdog == yes && $nr1 -gt $nr0 ]] && ready; then
    pass "watchdog-restart (NRestarts $nr0 -> $nr1)"
else
    fail watchdog-restart "Result=$(show Result) watchdog-seen=$saw_watchdog NRestarts $nr0 -> $nr1 ready=$(ready && echo yes || echo no)"
    kill -CONT "$pid0" 2>/dev/null
    systemctl restart deckd; wait_ready 60
fi

# 7. Memory pressure: with a small MemoryHigh, large uploads get 503 and deckd survives.
#    deckd's monitor counts memory.current >= memory_warn_percent (85 %) of memory.high
#    as pressure; MemoryHigh is set just above what deckd uses right now.
mkdir -p /run/systemd/system/deckd.service.d
printf '[Service]\n' > /run/systemd/system/deckd.service.d/50-pressure.conf
keys=$(as_deckd deckd check-config 2>/dev/null)
grep -q '^pressure_large_body_bytes' <<<"$keys" && \
    printf 'Environment=DECKD_PRESSURE_LARGE_BODY_BYTES=1048576\n' >> /run/systemd/system/deckd.service.d/50-pressure.conf
grep -q '^monitor_interval_secs' <<<"$keys" && \
    printf 'Environment=DECKD_MONITOR_INTERVAL_SECS=1\n' >> /run/systemd/system/deckd.service.d/50-pressure.conf
systemctl daemon-reload
systemctl restart deckd; wait_ready 60
cg=/sys/fs/cgroup$(show ControlGroup)
oom0=$(sed -n 's/^oom_kill //p' "$cg/memory.events" 2>/dev/null || echo 0)
nr0=$(show NRestarts)
# Log in first (argon2 needs ~19 MiB), then measure what deckd holds when settled.
token=$(curl -fsS -m 60 -H 'Content-Type: application/json' -d '{"username":"alice","password":"alice-password-1"}' "$API/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
sleep 2
high=$(( $(cat "$cg/memory.current") * 105 / 100 ))
# A runtime drop-in (/run/systemd/system.control), applied to the live cgroup.
systemctl set-property --runtime deckd.service MemoryHigh="${DECKD_VM_MEMORY_HIGH:-$high}"
sleep 3
# Four 40 MB uploads at once, straight to deckd (nginx would turn an early answer
# to a body still being sent into a 502 of its own).
head -c 30000000 /dev/urandom | base64 -w0 > /tmp/big.txt
codes=$(for i in 1 2 3 4; do
    curl -s -m 120 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" -H 'Content-Type: text/plain' \
        --data-binary @/tmp/big.txt "$API/createDeck" &
done; wait)
rm -f /tmp/big.txt
# shellcheck disable=SC2116,SC2086  # collapses the codes onto one line
codes=$(echo $codes)
oom1=$(sed -n 's/^oom_kill //p' "$cg/memory.events" 2>/dev/null || echo 0)
if [[ $codes == *503* ]]; then pass "pressure-large-upload-503 ($codes)"; else
    fail pressure-large-upload-503 "codes: $codes; memory.current=$(cat "$cg"/memory.current) high=$(cat "$cg"/memory.high)"
fi
if [[ $(show NRestarts) == "$nr0" && $(systemctl is-active deckd) == active && ${oom1:-0} == "${oom0:-0}" ]] && wait_ready 30; then
    pass "pressure-no-oom-kill"
else
    fail pressure-no-oom-kill "active=$(systemctl is-active deckd) NRestarts $nr0 -> $(show NRestarts) oom_kill=$oom1 Result=$(show Result)"
fi
rm -f /run/systemd/system/deckd.service.d/50-pressure.conf /run/systemd/system.control/deckd.service.d/*MemoryHigh*
systemctl daemon-reload
systemctl restart deckd
wait_ready 60

# 8. Upgrade (reinstall) and purge keep the data; a reinstall after purge picks it up.
users() { runuser -u deckd -- sqlite3 "$DB" 'SELECT count(*) FROM users;' 2>&1; }
n_before=$(users)
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >/dev/null 2>&1 && wait_ready 60
n_after=$(users)
if [[ $n_before == "$n_after" && $n_after -ge 2 ]] && ready; then pass "deb-upgrade-keeps-data"; else
    fail deb-upgrade-keeps-data "users before=$n_before after=$n_after ready=$(ready && echo yes || echo no)"
fi
DEBIAN_FRONTEND=noninteractive dpkg --purge deckd >/dev/null 2>&1
if [[ ! -e /usr/bin/deckd && -f $DB ]] && getent passwd deckd >/dev/null && ! ready; then pass "deb-purge-keeps-data"; else
    fail deb-purge-keeps-data "binary=$(ls /usr/bin/deckd 2>&1) db=$(ls $DB 2>&1) ready=$(ready && echo yes || echo no)"
fi
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >/dev/null 2>&1
config_ok config-default-valid-after-purge
wait_ready 60
n_after=$(users)
if [[ $n_before == "$n_after" ]] && ready && curl -fsS -m 5 -o /dev/null "$FRONT/readyz"; then pass "deb-reinstall-after-purge"; else
    fail deb-reinstall-after-purge "users before=$n_before after=$n_after ready=$(ready && echo yes || echo no)"
fi

# 9. Backups: an online backup while deckd serves, listed as verified; at the next
#    start a damaged database is replaced by it, the damaged file kept aside.
if out=$(as_deckd deckd backup now 2>&1); then pass "backup-now ($(echo "$out" | tail -1 | cut -c1-100))"; else
    fail backup-now "$(echo "$out" | tail -3 | tr '\n' ' ')"
fi
listing=$(as_deckd deckd backup list 2>&1)
if awk 'NR > 1 && $NF == "yes"' <<<"$listing" | grep -q .; then pass "backup-list-verified"; else
    fail backup-list-verified "$(echo "$listing" | tr '\n' ';')"
fi
n_before=$(users)
systemctl stop deckd
dd if=/dev/urandom of=$DB bs=100 count=1 conv=notrunc status=none
systemctl start deckd
wait_ready 60
n_after=$(users)
# shellcheck disable=SC2012  # names deckd gives the set-aside database
aside=$(ls -d /var/lib/deckd/damaged-* 2>/dev/null | head -1)
if [[ $n_before == "$n_after" && -n $aside && -f $aside/deckd.sqlite3 ]] && ready &&
    journalctl -u deckd --no-pager -o cat | grep -q 'THE DAMAGED DATABASE WAS REPLACED'; then
    pass "backup-restores-damaged-database (users $n_before, damaged copy in $aside)"
else
    fail backup-restores-damaged-database "users before=$n_before after=$n_after aside='$aside' ready=$(ready && echo yes || echo no); $(journalctl -u deckd -n 5 --no-pager -o cat | tr '\n' ' ')"
fi

# Leave the guest ready for the power-cut rounds: deckd enabled with its real unit.
sync
say "SUITE-DONE"
systemctl poweroff
