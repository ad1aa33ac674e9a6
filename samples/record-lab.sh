#!/usr/bin/env bash
# record-lab.sh - record the ttlsleuth sample captures in a throw-away
# network-namespace lab.
#
#   sudo bash samples/record-lab.sh            # both scenarios
#   sudo bash samples/record-lab.sh routed     # only one of them
#
# Topology (IPv4; see README.md next to this script):
#
#   guest ==(slirp4netns | veth)== host --198.18.1.0/24-- r1 --198.18.2.0/24--
#         r2 --198.18.3.0/24-- r3 --203.0.113.0/24-- target (203.0.113.10)
#
# Scenario "slirp":  guest reaches host through slirp4netns (user-space NAT,
#                    the libslirp of QEMU user networking / rootless
#                    containers). slirp re-originates every flow from its own
#                    sockets in tsl-host: TCP and ICMP echo leave with the
#                    host's TTL 64 whatever the guest sent (libslirp 4.7
#                    carries UDP TTLs over, minus one; see README.md).
# Scenario "routed": guest <-> host is a plain veth and host forwards: the
#                    control case, TTLs are decremented hop by hop.
#
# In each scenario the guest runs three traceroutes (TCP SYN, ICMP echo,
# classic UDP) while tcpdump records the guest's interface and the host's
# uplink towards r1. Output: samples/<scenario>/{guest,host}.pcap and
# samples/<scenario>/traceroute-{tcp,icmp,udp}.txt
#
# Safety: every address used lives in namespaces this script creates; no
# namespace has a route that leads out of the lab (the guest's default route
# points into the lab), traceroute runs with -n, slirp4netns with
# --disable-dns and --disable-host-loopback. The root namespace is never
# touched. Everything is removed on exit, also on error (trap cleanup EXIT).

set -Eeuo pipefail

# ----------------------------------------------------------------- settings

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$SCRIPT_DIR}

# Address families to configure. Only IPv4 is recorded for now. To add IPv6:
# append 6 here, fill ADDR6/ROUTES6/TARGET6 below and add "-6" variants of
# the traces in TRACES (slirp4netns then needs --enable-ipv6).
FAMILIES=(4)

NS_GUEST=tsl-guest
NS_HOST=tsl-host
NS_R1=tsl-r1
NS_R2=tsl-r2
NS_R3=tsl-r3
NS_TARGET=tsl-target
CORE_NS=("$NS_HOST" "$NS_R1" "$NS_R2" "$NS_R3" "$NS_TARGET")
ROUTER_NS=("$NS_R1" "$NS_R2" "$NS_R3")

TARGET4=203.0.113.10
TARGET_TCP_PORT=80
MAX_TTL=10

# Point-to-point links of the fixed part of the lab:
#   "nsA ifA nsB ifB"   (ifA lives in nsA, ifB in nsB)
CORE_LINKS=(
    "$NS_HOST h-r1  $NS_R1 r1-h"
    "$NS_R1   r1-r2 $NS_R2 r2-r1"
    "$NS_R2   r2-r3 $NS_R3 r3-r2"
    "$NS_R3   r3-t  $NS_TARGET t-r3"
)
HOST_UPLINK=h-r1                       # host side capture point

# IPv4 addresses, keyed "namespace/interface".
declare -A ADDR4=(
    [$NS_HOST/h-r1]=198.18.1.1/24   [$NS_R1/r1-h]=198.18.1.2/24
    [$NS_R1/r1-r2]=198.18.2.1/24    [$NS_R2/r2-r1]=198.18.2.2/24
    [$NS_R2/r2-r3]=198.18.3.1/24    [$NS_R3/r3-r2]=198.18.3.2/24
    [$NS_R3/r3-t]=203.0.113.1/24    [$NS_TARGET/t-r3]=203.0.113.10/24
)

# Explicit IPv4 routes only ("namespace prefix gateway"). Forward towards
# 203.0.113.0/24, backward towards 198.18.x/24 and the routed guest subnet
# 192.0.2.0/24. No namespace gets a default route here, so nothing can leak
# out of the lab. (slirp's guest subnet 10.0.2.0/24 never leaves slirp.)
ROUTES4=(
    "$NS_HOST   198.18.2.0/24   198.18.1.2"
    "$NS_HOST   198.18.3.0/24   198.18.1.2"
    "$NS_HOST   203.0.113.0/24  198.18.1.2"
    "$NS_R1     198.18.3.0/24   198.18.2.2"
    "$NS_R1     203.0.113.0/24  198.18.2.2"
    "$NS_R1     192.0.2.0/24    198.18.1.1"
    "$NS_R2     203.0.113.0/24  198.18.3.2"
    "$NS_R2     198.18.1.0/24   198.18.2.1"
    "$NS_R2     192.0.2.0/24    198.18.2.1"
    "$NS_R3     198.18.1.0/24   198.18.3.1"
    "$NS_R3     198.18.2.0/24   198.18.3.1"
    "$NS_R3     192.0.2.0/24    198.18.3.1"
    "$NS_TARGET 198.18.0.0/15   203.0.113.1"
    "$NS_TARGET 192.0.2.0/24    203.0.113.1"
)

# Routed scenario: guest <-> host veth.
ROUTED_GUEST_IF=g-h
ROUTED_HOST_IF=h-g
ROUTED_GUEST4=192.0.2.10/24
ROUTED_HOST4=192.0.2.1/24

# slirp scenario: slirp4netns defaults (10.0.2.0/24, guest .100, gw .2).
SLIRP_IF=tap0
SLIRP_GUEST4=10.0.2.100

# The three traces: "name|traceroute options" (target and -m appended).
TRACES=(
    "tcp|-n -T -p $TARGET_TCP_PORT"
    "icmp|-n -I"
    "udp|-n"
)

# Processes we start are recorded here too, so that a later run can end the
# leftovers of a run that was killed hard (by PID, never by name).
PIDFILE=/run/ttlsleuth-lab.pids

WORK=""                 # temporary directory for logs (tcpdump stderr, ...)
BG_PIDS=()              # PIDs of background processes started by this run
BG_PID=""               # the last one started (set by start_bg)
GUEST_IF=""             # guest's capture interface (set by setup_<scenario>)
WRITTEN=()              # files written, listed at the end

# ------------------------------------------------------------------ helpers

log() { printf '[record-lab] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Start "$@" in the background with output to a log file and remember its
# PID in BG_PID (ip netns exec execs the command, so $! is the real
# process). Not called in $(...): the process must be a child of this shell.
start_bg() {
    local logfile=$1; shift
    "$@" >"$logfile" 2>&1 &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
    echo "$BG_PID" >>"$PIDFILE"
}

# Stop one of our background processes: signal, then wait for it so that
# files (pcaps) are flushed and closed before we go on.
stop_pid() {
    local pid=$1 sig=${2:-TERM} _
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "PID $pid did not stop on SIG$sig, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Poll a command until it succeeds (timeout in tenths of a second).
wait_for() {
    local what=$1 tenths=$2 _; shift 2
    for _ in $(seq 1 "$tenths"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "timed out waiting for $what"
}

# ---------------------------------------------------------- preconditions

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (sudo bash $0)"
}

require_tools() {
    local t missing=()
    for t in ip tcpdump slirp4netns traceroute python3 sysctl ss; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    ((${#missing[@]} == 0)) ||
        die "missing tools: ${missing[*]} (apt-get install -y tcpdump slirp4netns traceroute iproute2 python3)"
    [[ -c /dev/net/tun ]] || die "/dev/net/tun missing (slirp4netns needs it)"
    command -v ethtool >/dev/null 2>&1 ||
        log "note: ethtool not found, veth checksum offload stays on (captures may show 'incorrect cksum' on locally sent packets)"
}

# ----------------------------------------------------------- lab lifecycle

# End processes recorded by an earlier run that did not clean up, but only
# if the PID still runs one of the programs this script starts (PIDs can be
# reused by unrelated processes).
kill_recorded_leftovers() {
    [[ -f $PIDFILE ]] || return 0
    local pid exe _ killed=()
    while read -r pid; do
        [[ $pid =~ ^[0-9]+$ ]] || continue
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
        case $exe in
            */tcpdump | */slirp4netns | */python3* | */traceroute*)
                log "ending leftover PID $pid ($exe) from an earlier run"
                kill "$pid" 2>/dev/null && killed+=("$pid") ;;
        esac
    done <"$PIDFILE"
    # Give them up to 3 s to go (they are not our children: poll /proc).
    for pid in "${killed[@]}"; do
        for _ in $(seq 1 30); do
            [[ -r /proc/$pid/exe ]] || break
            sleep 0.1
        done
    done
    rm -f "$PIDFILE"
}

delete_lab_namespaces() {
    local ns pids
    for ns in $(ip netns list | awk '{print $1}' | grep '^tsl-' || true); do
        pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ' || true)
        [[ -z $pids ]] || log "warning: namespace $ns still has processes: $pids(not ours to kill)"
        ip netns del "$ns" 2>/dev/null || log "warning: could not delete $ns"
    done
}

cleanup() {
    local rc=$? pid
    trap - EXIT
    for pid in "${BG_PIDS[@]}"; do stop_pid "$pid" TERM; done
    delete_lab_namespaces
    rm -f "$PIDFILE"
    [[ -z $WORK ]] || rm -rf "$WORK"
    if ((rc != 0)); then log "failed (exit $rc), lab removed"; fi
    exit "$rc"
}

# Settings shared by every namespace we create.
init_namespace() {
    local ns=$1
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
    if [[ " ${FAMILIES[*]} " != *" 6 "* ]]; then
        # IPv4-only lab: keep IPv6 router/neighbour solicitations and MLD
        # reports out of the captures. "default" covers interfaces created
        # later (veths moved in, slirp's tap0).
        nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        nsx "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    fi
}

# Turn off TX checksum offload on a veth so that captured packets carry
# real checksums (a parser that checks them should see them valid).
no_offload() {
    local ns=$1 dev=$2
    command -v ethtool >/dev/null 2>&1 || return 0
    nsx "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1 ||
        log "note: ethtool -K $dev tx off failed in $ns"
}

add_veth() {
    local nsa=$1 ifa=$2 nsb=$3 ifb=$4
    ip link add "$ifa" netns "$nsa" type veth peer name "$ifb" netns "$nsb"
    no_offload "$nsa" "$ifa"
    no_offload "$nsb" "$ifb"
    nsx "$nsa" ip link set "$ifa" up
    nsx "$nsb" ip link set "$ifb" up
}

build_core() {
    local ns link key route prefix gw
    log "building host, r1, r2, r3, target"
    for ns in "${CORE_NS[@]}"; do init_namespace "$ns"; done

    for link in "${CORE_LINKS[@]}"; do
        # shellcheck disable=SC2086  # deliberate word splitting
        add_veth $link
    done
    for key in "${!ADDR4[@]}"; do
        nsx "${key%%/*}" ip -4 addr add "${ADDR4[$key]}" dev "${key#*/}"
    done
    for route in "${ROUTES4[@]}"; do
        read -r ns prefix gw <<<"$route"
        nsx "$ns" ip -4 route add "$prefix" via "$gw"
    done

    for ns in "${ROUTER_NS[@]}"; do
        nsx "$ns" sysctl -qw net.ipv4.ip_forward=1
    done
    # Linux rate-limits ICMP errors per destination (token bucket, about
    # 6 back-to-back then 1/s). traceroute sends up to 16 probes at once, so
    # without this some hops would print '*' for no reason of ours.
    # The target is included: its port unreachables answer the UDP trace.
    for ns in "${ROUTER_NS[@]}" "$NS_HOST" "$NS_TARGET"; do
        nsx "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
    done
    # slirp relays the guest's ICMP echo through unprivileged ping sockets
    # (SOCK_DGRAM/IPPROTO_ICMP); allow them for every group in tsl-host.
    nsx "$NS_HOST" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
}

start_target_listener() {
    # Listens on TCP port 80 and accepts (then closes) connections in a loop,
    # so TCP SYN probes that reach the target get a SYN-ACK.
    local py
    py=$(command -v python3)
    [[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
    start_bg "$WORK/listener.log" ip netns exec "$NS_TARGET" "$py" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", '"$TARGET_TCP_PORT"'))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
'
    log "TCP listener on $TARGET4:$TARGET_TCP_PORT, PID $BG_PID"
    wait_for "TCP listener" 50 \
        bash -c "ip netns exec $NS_TARGET ss -Hltn 'sport = :$TARGET_TCP_PORT' | grep -q LISTEN"
}

# ------------------------------------------------------------- scenarios
# Each setup_* creates tsl-guest and its link to the host and prints the
# guest's capture interface; the guest namespace is deleted afterwards,
# which also removes the veth pair / tap0.

SLIRP_PID=""

setup_slirp() {
    init_namespace "$NS_GUEST"
    # The host does not route in this scenario: slirp re-originates flows.
    nsx "$NS_HOST" sysctl -qw net.ipv4.ip_forward=0
    # Run slirp4netns *inside* tsl-host so its sockets (the NAT's outside)
    # live there; it attaches tap0 to tsl-guest by path.
    start_bg "$WORK/slirp4netns.log" \
        ip netns exec "$NS_HOST" slirp4netns --configure --mtu=1500 \
        --disable-dns --disable-host-loopback \
        --netns-type=path "/run/netns/$NS_GUEST" "$SLIRP_IF"
    SLIRP_PID=$BG_PID
    log "slirp4netns PID $SLIRP_PID"
    # --configure brings tap0 up with 10.0.2.100/24 and a default route via
    # 10.0.2.2 (into slirp, whose outside is tsl-host: no way out of the lab).
    wait_for "$SLIRP_IF up in guest" 100 \
        bash -c "ip -n $NS_GUEST -4 addr show dev $SLIRP_IF up | grep -q 'inet $SLIRP_GUEST4/' &&
                 ip -n $NS_GUEST -4 route show default | grep -q $SLIRP_IF"
    kill -0 "$SLIRP_PID" || die "slirp4netns exited: $(cat "$WORK/slirp4netns.log")"
    GUEST_IF=$SLIRP_IF
}

teardown_slirp() {
    stop_pid "$SLIRP_PID" TERM
    ip netns del "$NS_GUEST"
}

setup_routed() {
    init_namespace "$NS_GUEST"
    add_veth "$NS_GUEST" "$ROUTED_GUEST_IF" "$NS_HOST" "$ROUTED_HOST_IF"
    nsx "$NS_GUEST" ip -4 addr add "$ROUTED_GUEST4" dev "$ROUTED_GUEST_IF"
    nsx "$NS_HOST" ip -4 addr add "$ROUTED_HOST4" dev "$ROUTED_HOST_IF"
    # Guest default route is fine: everything behind host is the lab, and
    # host itself has no default route.
    nsx "$NS_GUEST" ip -4 route add default via "${ROUTED_HOST4%/*}"
    nsx "$NS_HOST" sysctl -qw net.ipv4.ip_forward=1
    GUEST_IF=$ROUTED_GUEST_IF
}

teardown_routed() {
    ip netns del "$NS_GUEST"        # removes both ends of the veth
    nsx "$NS_HOST" sysctl -qw net.ipv4.ip_forward=0
}

# Start tcpdump in a namespace (PID left in BG_PID); wait until it is
# really capturing.
start_capture() {
    local ns=$1 dev=$2 file=$3 name=$4
    rm -f "$file"
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump before
    # opening the -w file, which may not be writable for it.
    start_bg "$WORK/tcpdump-$name.log" \
        ip netns exec "$ns" tcpdump -U -n -Z root -i "$dev" -w "$file"
    wait_for "tcpdump on $ns/$dev" 100 grep -q 'listening on' "$WORK/tcpdump-$name.log"
}

run_traces() {
    local dir=$1 target=$2 spec name opts first=1 rc
    for spec in "${TRACES[@]}"; do
        name=${spec%%|*}
        opts=${spec#*|}
        ((first)) || sleep 2
        first=0
        log "guest: traceroute $opts -m $MAX_TTL $target"
        # shellcheck disable=SC2086  # opts is a word list
        nsx "$NS_GUEST" traceroute $opts -m "$MAX_TTL" "$target" \
            >"$dir/traceroute-$name.txt" 2>&1 && rc=0 || rc=$?
        ((rc == 0)) || log "traceroute ($name) exited $rc, output kept"
        sed 's/^/    /' "$dir/traceroute-$name.txt" >&2
    done
}

record_scenario() {
    local scenario=$1 dir gpid hpid
    dir=$OUT_DIR/$scenario
    log "=== scenario $scenario ==="
    mkdir -p "$dir"
    "setup_$scenario"

    start_capture "$NS_GUEST" "$GUEST_IF" "$dir/guest.pcap" "$scenario-guest"
    gpid=$BG_PID
    start_capture "$NS_HOST" "$HOST_UPLINK" "$dir/host.pcap" "$scenario-host"
    hpid=$BG_PID
    sleep 1                       # let tcpdump settle before the first probe

    run_traces "$dir" "$TARGET4"

    sleep 1                       # late replies / slirp connection teardown
    stop_pid "$gpid" INT
    stop_pid "$hpid" INT
    sed 's/^/    tcpdump guest: /' "$WORK/tcpdump-$scenario-guest.log" >&2
    sed 's/^/    tcpdump host:  /' "$WORK/tcpdump-$scenario-host.log" >&2

    "teardown_$scenario"
    WRITTEN+=("$dir/guest.pcap" "$dir/host.pcap"
              "$dir/traceroute-tcp.txt" "$dir/traceroute-icmp.txt" "$dir/traceroute-udp.txt")
}

# ------------------------------------------------------------------- main

main() {
    local scenarios=("$@") s f
    ((${#scenarios[@]})) || scenarios=(slirp routed)
    for s in "${scenarios[@]}"; do
        [[ $s == slirp || $s == routed ]] || die "unknown scenario '$s' (slirp|routed)"
    done

    require_root
    require_tools

    # Leftovers of a failed earlier run first, then our own trap.
    kill_recorded_leftovers
    delete_lab_namespaces
    trap cleanup EXIT
    # Turn Ctrl-C / kill into a normal exit so that the EXIT trap cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    : >"$PIDFILE"
    WORK=$(mktemp -d /tmp/ttlsleuth-lab.XXXXXX)
    WRITTEN=()

    build_core
    start_target_listener
    for s in "${scenarios[@]}"; do record_scenario "$s"; done

    log "wrote:"
    for f in "${WRITTEN[@]}"; do
        log "  $f ($(stat -c %s "$f") bytes)"
    done
}

main "$@"
