#!/usr/bin/env bash
# record-lab.sh - record the ttlsleuth sample captures in a throw-away
# network-namespace lab.
#
#   sudo bash samples/record-lab.sh                 # legacy pair: slirp/ and routed/
#   sudo bash samples/record-lab.sh routed          # only one of them (slirp|routed)
#   sudo bash samples/record-lab.sh matrix          # the whole matrix into lab/
#   sudo bash samples/record-lab.sh matrix pasta nat-classic-v6
#                                                   # some scenarios (all families,
#                                                   # or one with -v4 / -v6)
#   sudo TOOLS="traceroute-tcp mtr-icmp" bash samples/record-lab.sh matrix slirp
#   sudo bash samples/record-lab.sh extra           # the extra cases into extra/
#   sudo bash samples/record-lab.sh extra guestside # or one part: guestside | onlink
#                                                   # (or one run set: kernel-nat-v4,
#                                                   # nat-classic-v4, onlink-wide-v4/-v6)
#
# Topology (see README.md next to this script):
#
#   guest ==(slirp4netns | pasta | veth)== host --198.18.1.0/24-- r1
#         --198.18.2.0/24-- r2 --198.18.3.0/24-- r3 --203.0.113.0/24--
#         target (203.0.113.10; 2001:db8:113::10 in the matrix)
#
# Legacy mode (the captures in slirp/ and routed/, IPv4 only, three
# traceroutes per capture):
#   "slirp":  guest reaches host through slirp4netns (user-space NAT, the
#             libslirp of QEMU user networking / rootless containers).
#   "routed": guest <-> host is a plain veth and host forwards: the control.
#   Output: <OUT_DIR>/<scenario>/{guest,host}.pcap and
#           <OUT_DIR>/<scenario>/traceroute-{tcp,icmp,udp}.txt
#
# Matrix mode (one capture pair per scenario, IP version and tool):
#   scenarios   slirp, slirp-noping, pasta, nat-classic, nat-network,
#               kernel-nat, routed   (see matrix_setup below / README.md)
#   tools       traceroute-tcp tcptraceroute mtr-tcp hping3-tcp scamper-tcp
#               traceroute-icmp traceroute-udp mtr-icmp
#   Output: <OUT_DIR>/lab/<scenario>-v<4|6>/<tool>/{guest.pcap,host.pcap,
#           output.txt} (+ format variants in a few runs), the run index
#           <OUT_DIR>/lab/runs.tsv and <OUT_DIR>/lab/versions.txt; then
#           make-manifest.py writes <OUT_DIR>/manifest.tsv and
#           <OUT_DIR>/lab/ttl-facts.tsv (needs tshark).
#
# Extra mode (cases the matrix lacks; same tools, settings and run
# procedure as the matrix, traceroute -T, -I and UDP only):
#   guestside   kernel-nat-v4 and nat-classic-v4 again, with a third capture
#               on the host's guest-facing veth h-g (host-guestside.pcap),
#               taken at the same time as guest.pcap and host.pcap (h-r1).
#   onlink      "onlink-wide": guest and destination on one link with a
#               prefix wider than /24 or /64 (10.1.2.3/16 -> 10.1.200.4/16;
#               2001:db8:10:2::3/48 -> 2001:db8:10:c8::4/48), no router, no
#               host; neighbour caches flushed before every run, so each
#               guest capture holds the ARP / neighbour discovery exchange.
#   Output: <OUT_DIR>/extra/<scenario>-v<4|6>/<tool>/{guest.pcap,[host.pcap,
#           host-guestside.pcap,]output.txt}, <OUT_DIR>/extra/runs.tsv,
#           <OUT_DIR>/extra/versions.txt; then make-manifest.py as above
#           (extra/ttl-facts.tsv too). The matrix files are not touched.
#
# Safety: every address used lives in namespaces this script creates
# (tsl-guest, tsl-host, tsl-r1..3, tsl-target; tsl-lan in extra mode); no namespace has a route that
# leads out of the lab (only the guest has a default route, into the lab; the
# host has none); all tools get numeric addresses and run with -n (no DNS);
# slirp4netns runs with --disable-dns --disable-host-loopback, pasta inside
# tsl-host (never the root namespace) with -D none -S none, no port
# forwarding, --no-map-gw, no DHCP/DHCPv6/RA. nftables rules are only ever
# loaded inside tsl-host. The root namespace is never touched. Everything is
# removed on exit, also on error (trap cleanup EXIT); processes are ended by
# PID only.

set -Eeuo pipefail

# ----------------------------------------------------------------- settings

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$SCRIPT_DIR}
MODE=legacy                            # legacy | matrix | extra (set in main)

# Address families to configure: legacy mode is IPv4 only (IPv6 disabled in
# every namespace); matrix mode sets (4 6).
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
TARGET6=2001:db8:113::10
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
# out of the lab. (The NAT scenarios' guest subnets never leave the host.)
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

# IPv6 (matrix mode only): documentation prefix 2001:db8::/32, the subnets
# mirror the IPv4 ones (198.18.N.0/24 -> 2001:db8:18:N::/64, 203.0.113.0/24
# -> 2001:db8:113::/64, routed guest 192.0.2.0/24 -> 2001:db8:192::/64).
declare -A ADDR6=(
    [$NS_HOST/h-r1]=2001:db8:18:1::1/64  [$NS_R1/r1-h]=2001:db8:18:1::2/64
    [$NS_R1/r1-r2]=2001:db8:18:2::1/64   [$NS_R2/r2-r1]=2001:db8:18:2::2/64
    [$NS_R2/r2-r3]=2001:db8:18:3::1/64   [$NS_R3/r3-r2]=2001:db8:18:3::2/64
    [$NS_R3/r3-t]=2001:db8:113::1/64     [$NS_TARGET/t-r3]=2001:db8:113::10/64
)
ROUTES6=(
    "$NS_HOST   2001:db8:18:2::/64  2001:db8:18:1::2"
    "$NS_HOST   2001:db8:18:3::/64  2001:db8:18:1::2"
    "$NS_HOST   2001:db8:113::/64   2001:db8:18:1::2"
    "$NS_R1     2001:db8:18:3::/64  2001:db8:18:2::2"
    "$NS_R1     2001:db8:113::/64   2001:db8:18:2::2"
    "$NS_R1     2001:db8:192::/64   2001:db8:18:1::1"
    "$NS_R2     2001:db8:113::/64   2001:db8:18:3::2"
    "$NS_R2     2001:db8:18:1::/64  2001:db8:18:2::1"
    "$NS_R2     2001:db8:192::/64   2001:db8:18:2::1"
    "$NS_R3     2001:db8:18:1::/64  2001:db8:18:3::1"
    "$NS_R3     2001:db8:18:2::/64  2001:db8:18:3::1"
    "$NS_R3     2001:db8:192::/64   2001:db8:18:3::1"
    "$NS_TARGET 2001:db8:18::/48    2001:db8:113::1"
    "$NS_TARGET 2001:db8:192::/64   2001:db8:113::1"
)

# Routed scenario: guest <-> host veth.
ROUTED_GUEST_IF=g-h
ROUTED_HOST_IF=h-g
ROUTED_GUEST4=192.0.2.10/24
ROUTED_HOST4=192.0.2.1/24

# slirp scenario: slirp4netns defaults (10.0.2.0/24, guest .100, gw .2).
SLIRP_IF=tap0
SLIRP_GUEST4=10.0.2.100

# The three traces of legacy mode: "name|traceroute options" (target and -m
# appended).
TRACES=(
    "tcp|-n -T -p $TARGET_TCP_PORT"
    "icmp|-n -I"
    "udp|-n"
)

# ---------------------------------------------------------- matrix settings

LAB_SUBDIR=lab
MATRIX_SCENARIOS=(slirp slirp-noping pasta nat-classic nat-network kernel-nat routed)
MATRIX_TOOLS=(traceroute-tcp tcptraceroute mtr-tcp hping3-tcp scamper-tcp
              traceroute-icmp traceroute-udp mtr-icmp)
M_MAX_TTL=8             # max TTL of every tool in the matrix
M_QUERIES=2             # probes per TTL (traceroute, tcptraceroute, scamper)
M_MTR_CYCLES=2          # mtr -c
M_TOOL_TIMEOUT=60       # seconds, per tool run

# Guest-side addresses of the veth scenarios: "guest/len gateway".
declare -A VETH_NET=(
    [nat-classic/4]="10.0.2.15/24 10.0.2.2"        # VirtualBox NAT numbering
    [nat-classic/6]="fd00:2::15/64 fd00:2::2"
    [nat-network/4]="10.0.2.15/24 10.0.2.1"        # VirtualBox NAT Network numbering
    [nat-network/6]="fd00:2::15/64 fd00:2::1"
    [kernel-nat/4]="192.168.122.15/24 192.168.122.1"  # libvirt default network numbering
    [kernel-nat/6]="fd00:122::15/64 fd00:122::1"
    [routed/4]="192.0.2.10/24 192.0.2.1"
    [routed/6]="2001:db8:192::10/64 2001:db8:192::1"
)
# slirp4netns: fixed guest MAC (QEMU's default NIC address) so that the
# SLAAC address is the same in every run: fd00::5054:ff:fe12:3456.
SLIRP_MAC=52:54:00:12:34:56
PASTA_IF=eth0

# Extra captures, taken at the same time as guest.pcap/host.pcap, in other
# file formats: "<scenario>-v<N>/<tool>" -> variants.
#   guest-any    tcpdump -i any -y LINUX_SLL2 in the guest  -> guest-any.pcap
#   guest-nano   tcpdump --time-stamp-precision=nano         -> guest-nano.pcap
#   guest-pcapng dumpcap (pcapng)                            -> guest.pcapng
#   host-any     tcpdump -i any -y LINUX_SLL2 in tsl-host    -> host-any.pcap
declare -A VARIANTS=(
    [slirp-v4/traceroute-tcp]="guest-any guest-nano guest-pcapng host-any"
    [pasta-v6/traceroute-tcp]="guest-any guest-nano guest-pcapng"
    [nat-classic-v4/traceroute-tcp]="host-any"
)

# ----------------------------------------------------------- extra settings

EXTRA_SUBDIR=extra
EXTRA_TOOLS=(traceroute-tcp traceroute-icmp traceroute-udp)
# "guestside": matrix scenarios recorded again with host-guestside.pcap.
EXTRA_GUESTSIDE=(kernel-nat-v4 nat-classic-v4)
# "onlink": the on-link destination on a wide prefix.
EXTRA_ONLINK=(onlink-wide-v4 onlink-wide-v6)
NS_LAN=tsl-lan                         # the on-link destination's namespace
ONLINK_GUEST_IF=g-l
ONLINK_LAN_IF=l-g
# "guest/len destination/len" per family: one link, one prefix; the two
# addresses differ outside the first /24 (/64), so only the prefix length
# (or the neighbour exchange in the capture) says they share the link.
declare -A ONLINK_NET=(
    [4]="10.1.2.3/16 10.1.200.4/16"
    [6]="2001:db8:10:2::3/48 2001:db8:10:c8::4/48"
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

# Matrix mode needs more: tool -> Debian package.
require_matrix_tools() {
    local spec t pkg missing=() pkgs=()
    for spec in pasta:passt nft:nftables mtr:mtr-tiny hping3:hping3 \
                scamper:scamper tcptraceroute.mt:tcptraceroute \
                dumpcap:wireshark-common; do
        t=${spec%%:*} pkg=${spec#*:}
        if ! command -v "$t" >/dev/null 2>&1; then
            missing+=("$t"); pkgs+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) ||
        die "missing tools: ${missing[*]} (DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs[*]})"
    command -v tshark >/dev/null 2>&1 ||
        log "note: tshark not found: manifest.tsv will not be regenerated (apt-get install -y tshark)"
}

# Extra mode: traceroute only, and nft for nat-classic.
require_extra_tools() {
    command -v nft >/dev/null 2>&1 ||
        die "missing tools: nft (DEBIAN_FRONTEND=noninteractive apt-get install -y nftables)"
    command -v tshark >/dev/null 2>&1 ||
        log "note: tshark not found: manifest.tsv will not be regenerated (apt-get install -y tshark)"
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
            */tcpdump | */slirp4netns | */python3* | */traceroute* | */pasta | \
            */passt | */dumpcap)
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
    else
        # Dual-stack lab: no duplicate address detection (addresses usable
        # at once, no DAD probes) and no router solicitations (the lab has
        # no router advertisements, except slirp's; see matrix_guest_ns).
        nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
        nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
        nsx "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0
        nsx "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
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

    if [[ " ${FAMILIES[*]} " == *" 6 "* ]]; then
        for key in "${!ADDR6[@]}"; do
            nsx "${key%%/*}" ip -6 addr add "${ADDR6[$key]}" dev "${key#*/}" nodad
        done
        for route in "${ROUTES6[@]}"; do
            read -r ns prefix gw <<<"$route"
            nsx "$ns" ip -6 route add "$prefix" via "$gw"
        done
        for ns in "${ROUTER_NS[@]}"; do
            nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
        done
        for ns in "${ROUTER_NS[@]}" "$NS_HOST" "$NS_TARGET"; do
            nsx "$ns" sysctl -qw net.ipv6.icmp.ratelimit=0
        done
    fi
}

start_target_listener() {
    # Listens on TCP port 80 and accepts (then closes) connections in a loop,
    # so TCP SYN probes that reach the target get a SYN-ACK. In matrix mode
    # one dual-stack socket (IPv4-mapped) serves both families.
    local py
    py=$(command -v python3)
    [[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
    if [[ $MODE == legacy ]]; then
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
    else
        start_bg "$WORK/listener.log" ip netns exec "$NS_TARGET" "$py" -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", '"$TARGET_TCP_PORT"'))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
'
    fi
    log "TCP listener on target port $TARGET_TCP_PORT, PID $BG_PID"
    wait_for "TCP listener" 50 \
        bash -c "ip netns exec $NS_TARGET ss -Hltn 'sport = :$TARGET_TCP_PORT' | grep -q LISTEN"
}

# A TCP port 80 listener (accept, close) of one family in namespace $1, as
# the matrix target's; PID in BG_PID. Extra mode's on-link destination.
start_listener() {
    local ns=$1 family=$2 logfile=$3 py af any
    py=$(command -v python3)
    [[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
    if [[ $family == 4 ]]; then af=AF_INET any=0.0.0.0; else af=AF_INET6 any=::; fi
    start_bg "$logfile" ip netns exec "$ns" "$py" -c '
import socket
s = socket.socket(socket.'"$af"', socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$any"'", '"$TARGET_TCP_PORT"'))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
'
    log "TCP listener in $ns port $TARGET_TCP_PORT (IPv$family), PID $BG_PID"
    wait_for "TCP listener in $ns" 50 \
        bash -c "ip netns exec $ns ss -Hltn 'sport = :$TARGET_TCP_PORT' | grep -q LISTEN"
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
# really capturing. Extra tcpdump options may follow the name.
start_capture() {
    local ns=$1 dev=$2 file=$3 name=$4; shift 4
    rm -f "$file"
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump before
    # opening the -w file, which may not be writable for it.
    start_bg "$WORK/tcpdump-$name.log" \
        ip netns exec "$ns" tcpdump -U -n -Z root "$@" -i "$dev" -w "$file"
    wait_for "tcpdump on $ns/$dev" 100 grep -q 'listening on' "$WORK/tcpdump-$name.log"
}

# The same with dumpcap, which writes pcapng.
start_capture_pcapng() {
    local ns=$1 dev=$2 file=$3 name=$4
    rm -f "$file"
    start_bg "$WORK/dumpcap-$name.log" \
        ip netns exec "$ns" dumpcap -i "$dev" -w "$file"
    wait_for "dumpcap on $ns/$dev" 100 grep -q 'Capturing on' "$WORK/dumpcap-$name.log"
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

# ================================================================= matrix
#
# One guest namespace per (scenario, family), built by matrix_setup and
# removed by matrix_teardown; in it every tool runs once, each run with its
# own captures. The guest namespace is single-stack: IPv6 disabled for v4
# runs; for v6 runs the veth guests get only IPv6 addresses (slirp4netns
# and pasta also configure their IPv4 side, which stays unused).

M_GUEST_ADDR=""         # guest's own address (v4 or v6) for this run
M_GATEWAY=""            # what the guest's default route points to
M_HOST_GUEST_IF=""      # host end of the guest link (veth scenarios)
M_PROC_PID=""           # slirp4netns / pasta PID of this scenario
M_NFT=""                # nftables ruleset loaded in tsl-host (text)
M_HOST_NS=""            # namespace of host.pcap (on h-r1); empty: no host capture
M_TARGET=""             # the traced address when not TARGET4/TARGET6 (onlink)
M_COLD_NEIGH=0          # 1: flush the neighbour caches before every run (onlink)
M_LAN_PID=""            # listener in tsl-lan (onlink)
RUNS_TSV=""

matrix_guest_ns() {
    matrix_guest_ns_named "$NS_GUEST" "$@"
}

# A single-stack namespace as the matrix guest's (also tsl-lan, extra mode).
matrix_guest_ns_named() {
    local ns=$1 family=$2 want_ra=${3:-0}
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
    if [[ $family == 4 ]]; then
        nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        nsx "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    else
        nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
        nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
        if ((!want_ra)); then
            nsx "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0
            nsx "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
            nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0
        fi
    fi
}

# Host forwarding: on for the kernel scenarios, off for the user-space NATs
# (slirp and pasta re-originate flows from sockets; the host routes nothing).
host_forwarding() {
    local on=$1
    nsx "$NS_HOST" sysctl -qw net.ipv4.ip_forward="$on"
    nsx "$NS_HOST" sysctl -qw net.ipv6.conf.all.forwarding="$on"
}

# nftables rules of the kernel NAT scenarios, loaded into tsl-host only.
# Neighbour discovery must keep hop limit 255 (RFC 4861: receivers drop it
# otherwise), so it is exempt from the hop-limit rewriting.
nft_ruleset() {
    local scenario=$1 net4=$2 net6=$3
    local nd='icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept'
    echo "table inet tsl_lab {"
    case $scenario in
    nat-classic)
        # TTL 1 expires at the host (normal forwarding: time exceeded from
        # the host); everything the guest sends that is forwarded out leaves
        # with TTL 64; everything forwarded or sent to the guest gets TTL 64.
        cat <<EOF
    chain postrouting_ttl {
        type filter hook postrouting priority mangle; policy accept;
        $nd
        oifname "$HOST_UPLINK" ip saddr $net4 ip ttl set 64
        oifname "$HOST_UPLINK" ip6 saddr $net6 ip6 hoplimit set 64
        oifname "$M_HOST_GUEST_IF" ip ttl set 64
        oifname "$M_HOST_GUEST_IF" ip6 hoplimit set 64
    }
EOF
        ;;
    nat-network)
        # Before routing, every packet from the guest gets TTL 64, so
        # nothing expires at the host; after routing, what leaves towards
        # r1 is set to 64 again (63 after the host's decrement otherwise);
        # everything to the guest gets TTL 255.
        cat <<EOF
    chain prerouting_ttl {
        type filter hook prerouting priority mangle; policy accept;
        $nd
        iifname "$M_HOST_GUEST_IF" ip ttl set 64
        iifname "$M_HOST_GUEST_IF" ip6 hoplimit set 64
    }
    chain postrouting_ttl {
        type filter hook postrouting priority mangle; policy accept;
        $nd
        oifname "$HOST_UPLINK" ip saddr $net4 ip ttl set 64
        oifname "$HOST_UPLINK" ip6 saddr $net6 ip6 hoplimit set 64
        oifname "$M_HOST_GUEST_IF" ip ttl set 255
        oifname "$M_HOST_GUEST_IF" ip6 hoplimit set 255
    }
EOF
        ;;
    esac
    cat <<EOF
    chain postrouting_nat {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$HOST_UPLINK" ip saddr $net4 masquerade
        oifname "$HOST_UPLINK" ip6 saddr $net6 masquerade
    }
}
EOF
}

# Prefix of an address/len, e.g. 10.0.2.15/24 -> 10.0.2.0/24 (python3 is
# a requirement anyway).
net_of() {
    python3 -c 'import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1]).network)' "$1"
}

setup_veth_scenario() {
    local scenario=$1 family=$2 guest gw hostaddr plen net4="" net6=""
    read -r guest gw <<<"${VETH_NET[$scenario/$family]}"
    plen=${guest#*/}
    hostaddr=$gw/$plen
    matrix_guest_ns "$family"
    M_HOST_GUEST_IF=$ROUTED_HOST_IF
    add_veth "$NS_GUEST" "$ROUTED_GUEST_IF" "$NS_HOST" "$M_HOST_GUEST_IF"
    if [[ $family == 4 ]]; then
        nsx "$NS_GUEST" ip -4 addr add "$guest" dev "$ROUTED_GUEST_IF"
        nsx "$NS_HOST" ip -4 addr add "$hostaddr" dev "$M_HOST_GUEST_IF"
        nsx "$NS_GUEST" ip -4 route add default via "$gw"
    else
        nsx "$NS_GUEST" ip -6 addr add "$guest" dev "$ROUTED_GUEST_IF" nodad
        nsx "$NS_HOST" ip -6 addr add "$hostaddr" dev "$M_HOST_GUEST_IF" nodad
        nsx "$NS_GUEST" ip -6 route add default via "$gw"
    fi
    host_forwarding 1
    GUEST_IF=$ROUTED_GUEST_IF
    M_GUEST_ADDR=${guest%/*}
    M_GATEWAY=$gw
    M_NFT=""
    if [[ $scenario != routed ]]; then
        # Both families' prefixes are needed in the ruleset text; the other
        # family's entry is simply never matched.
        net4=$(net_of "${VETH_NET[$scenario/4]%% *}")
        net6=$(net_of "${VETH_NET[$scenario/6]%% *}")
        M_NFT=$(nft_ruleset "$scenario" "$net4" "$net6")
        printf '%s\n' "$M_NFT" | nsx "$NS_HOST" nft -f -
    fi
}

setup_slirp_matrix() {
    local scenario=$1 family=$2 args
    matrix_guest_ns "$family" 1          # slirp's RA gives the guest its IPv6 address
    host_forwarding 0
    args=(--configure --mtu=1500 --disable-dns --disable-host-loopback
          "--macaddress=$SLIRP_MAC")
    [[ $family == 6 ]] && args+=(--enable-ipv6)
    if [[ $scenario == slirp-noping ]]; then
        # No ICMP sockets for slirp: ping sockets forbidden to every group
        # in tsl-host, and slirp4netns' sandbox drops all capabilities but
        # CAP_NET_BIND_SERVICE, so it cannot open a raw socket either (as
        # root it would otherwise fall back to one). This is how QEMU/slirp
        # runs as an ordinary user on a host whose ping_group_range
        # excludes that user.
        nsx "$NS_HOST" sysctl -qw net.ipv4.ping_group_range="1 0"
        args+=(--enable-sandbox)
    else
        nsx "$NS_HOST" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
    fi
    start_bg "$WORK/slirp4netns-$scenario-$family.log" \
        ip netns exec "$NS_HOST" slirp4netns "${args[@]}" \
        --netns-type=path "/run/netns/$NS_GUEST" "$SLIRP_IF"
    M_PROC_PID=$BG_PID
    log "slirp4netns ${args[*]} PID $M_PROC_PID"
    wait_for "$SLIRP_IF up in guest" 100 \
        bash -c "ip -n $NS_GUEST -4 addr show dev $SLIRP_IF up | grep -q 'inet $SLIRP_GUEST4/' &&
                 ip -n $NS_GUEST -4 route show default | grep -q $SLIRP_IF"
    if [[ $family == 6 ]]; then
        # SLAAC from slirp's router advertisement (prefix fd00::/64,
        # router fe80::2).
        wait_for "IPv6 address from slirp's RA" 150 \
            bash -c "ip -n $NS_GUEST -6 addr show dev $SLIRP_IF scope global | grep -v tentative | grep -q 'inet6 fd00::' &&
                     ip -n $NS_GUEST -6 route show default | grep -q $SLIRP_IF"
        M_GUEST_ADDR=$(ip -n "$NS_GUEST" -6 addr show dev "$SLIRP_IF" scope global |
                       awk '/inet6 fd00::/ {sub(/\/.*/, "", $2); print $2; exit}')
        M_GATEWAY=$(ip -n "$NS_GUEST" -6 route show default | awk '{print $3; exit}')
    else
        M_GUEST_ADDR=$SLIRP_GUEST4
        M_GATEWAY=10.0.2.2
    fi
    kill -0 "$M_PROC_PID" || die "slirp4netns exited: $(cat "$WORK/slirp4netns-$scenario-$family.log")"
    GUEST_IF=$SLIRP_IF
    M_NFT=""
}

setup_pasta_matrix() {
    local family=$1 gw addr args
    matrix_guest_ns "$family"
    host_forwarding 0
    nsx "$NS_HOST" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
    if [[ $family == 4 ]]; then
        gw=${ADDR4[$NS_R1/r1-h]%/*}; addr=${ADDR4[$NS_HOST/h-r1]%/*}
    else
        gw=${ADDR6[$NS_R1/r1-h]%/*}; addr=${ADDR6[$NS_HOST/h-r1]%/*}
    fi
    # pasta runs inside tsl-host (it copies that namespace's address and
    # route of -i h-r1 into the guest: the guest gets the host's own
    # address). tsl-host has no default route, so the gateway is given with
    # -g (r1's address, which pasta impersonates towards the guest).
    # --runas 0:0: as root pasta would otherwise switch to "nobody" before
    # joining the guest namespace, which then fails ("Couldn't switch to
    # pasta namespaces"); joining by path needs CAP_SYS_ADMIN.
    args=(-f --runas 0:0 -l "$WORK/pasta-$family.log" --config-net -m 1500
          "-$family" -i "$HOST_UPLINK" -g "$gw" -D none -S none
          -t none -u none -T none -U none --no-map-gw
          --no-dhcp --no-dhcpv6 --no-ra -I "$PASTA_IF")
    start_bg "$WORK/pasta-$family.out" \
        ip netns exec "$NS_HOST" pasta "${args[@]}" --netns "/run/netns/$NS_GUEST"
    M_PROC_PID=$BG_PID
    log "pasta ${args[*]} PID $M_PROC_PID"
    wait_for "$PASTA_IF configured by pasta" 100 \
        bash -c "ip -n $NS_GUEST -$family addr show dev $PASTA_IF up | grep -q 'inet6\\? $addr/' &&
                 ip -n $NS_GUEST -$family route show default | grep -q $PASTA_IF"
    kill -0 "$M_PROC_PID" || die "pasta exited: $(cat "$WORK/pasta-$family.out")"
    GUEST_IF=$PASTA_IF
    M_GUEST_ADDR=$addr
    M_GATEWAY=$gw
    M_NFT=""
}

# The on-link destination (extra mode): tsl-guest and tsl-lan joined by one
# veth, both addresses in one wide prefix, no router and no route besides the
# connected one (not even a default route in the guest: nothing can leave).
# tsl-lan answers like the matrix target: TCP port 80 accepts, UDP to a
# closed port gets port unreachable, echo gets echo reply; no ICMP rate limit.
setup_onlink() {
    local family=$1 guest dest
    read -r guest dest <<<"${ONLINK_NET[$family]}"
    matrix_guest_ns "$family"
    matrix_guest_ns_named "$NS_LAN" "$family"
    nsx "$NS_LAN" sysctl -qw net.ipv4.icmp_ratelimit=0
    nsx "$NS_LAN" sysctl -qw net.ipv6.icmp.ratelimit=0
    add_veth "$NS_GUEST" "$ONLINK_GUEST_IF" "$NS_LAN" "$ONLINK_LAN_IF"
    if [[ $family == 4 ]]; then
        nsx "$NS_GUEST" ip -4 addr add "$guest" dev "$ONLINK_GUEST_IF"
        nsx "$NS_LAN" ip -4 addr add "$dest" dev "$ONLINK_LAN_IF"
    else
        nsx "$NS_GUEST" ip -6 addr add "$guest" dev "$ONLINK_GUEST_IF" nodad
        nsx "$NS_LAN" ip -6 addr add "$dest" dev "$ONLINK_LAN_IF" nodad
    fi
    start_listener "$NS_LAN" "$family" "$WORK/listener-lan-$family.log"
    M_LAN_PID=$BG_PID
    host_forwarding 0
    GUEST_IF=$ONLINK_GUEST_IF
    M_GUEST_ADDR=${guest%/*}
    M_GATEWAY=""
    M_TARGET=${dest%/*}
    M_HOST_NS=""
    M_COLD_NEIGH=1
    M_NFT=""
}

matrix_setup() {
    local scenario=$1 family=$2
    M_PROC_PID=""
    M_HOST_NS=$NS_HOST M_TARGET="" M_COLD_NEIGH=0 M_LAN_PID="" M_HOST_GUEST_IF=""
    case $scenario in
        slirp | slirp-noping) setup_slirp_matrix "$scenario" "$family" ;;
        pasta) setup_pasta_matrix "$family" ;;
        nat-classic | nat-network | kernel-nat | routed)
            setup_veth_scenario "$scenario" "$family" ;;
        onlink-wide) setup_onlink "$family" ;;
        *) die "unknown matrix scenario $scenario" ;;
    esac
    # Interface bring-up sends MLD reports / router solicitations for a
    # second or two; let them pass before the first capture starts.
    sleep 3
}

matrix_teardown() {
    local scenario=$1
    [[ -z $M_PROC_PID ]] || stop_pid "$M_PROC_PID" TERM
    [[ -z $M_NFT ]] || nsx "$NS_HOST" nft delete table inet tsl_lab
    ip netns del "$NS_GUEST"
    if [[ $scenario == onlink-wide ]]; then
        [[ -z $M_LAN_PID ]] || stop_pid "$M_LAN_PID" TERM
        ip netns del "$NS_LAN"
    fi
    host_forwarding 0
    nsx "$NS_HOST" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
    M_PROC_PID="" M_NFT="" M_LAN_PID=""
}

tool_protocol() {
    case $1 in
        *-icmp) echo icmp ;;
        *-udp) echo udp ;;
        *) echo tcp ;;
    esac
}

# IPv4-only tools: hping3 3.0.0-alpha-2 has no IPv6 support, tcptraceroute
# 1.5beta7 (libnet) neither.
tool_supports() {
    local tool=$1 family=$2
    [[ $family == 4 ]] && return 0
    case $tool in hping3-tcp | tcptraceroute) return 1 ;; esac
    return 0
}

# The command line of a tool (array M_CMD), run in the guest.
tool_command() {
    local tool=$1 family=$2 target=$3 q=$M_QUERIES m=$M_MAX_TTL p=$TARGET_TCP_PORT
    case $tool in
        traceroute-tcp)  M_CMD=(traceroute "-$family" -n -T -p "$p" -q "$q" -w 1 -m "$m" "$target") ;;
        traceroute-icmp) M_CMD=(traceroute "-$family" -n -I -q "$q" -w 1 -m "$m" "$target") ;;
        traceroute-udp)  M_CMD=(traceroute "-$family" -n -q "$q" -w 1 -m "$m" "$target") ;;
        tcptraceroute)   M_CMD=(tcptraceroute.mt -n -q "$q" -w 1 -m "$m" "$target" "$p") ;;
        mtr-tcp)         M_CMD=(mtr "-$family" -n --tcp -P "$p" --report -c "$M_MTR_CYCLES"
                                -i 0.5 -G 1 -m "$m" "$target") ;;
        mtr-icmp)        M_CMD=(mtr "-$family" -n --report -c "$M_MTR_CYCLES"
                                -i 0.5 -G 1 -m "$m" "$target") ;;
        # stdbuf: hping3 writes part of a line to stdout and the rest to
        # stderr; unbuffered, the saved output keeps the order it was printed in.
        hping3-tcp)      M_CMD=(stdbuf -o0 -e0 hping3 -n --traceroute -S -p "$p" -c "$m"
                                -i u300000 "$target") ;;
        scamper-tcp)     M_CMD=(scamper -O text -c "trace -P tcp -d $p -q $q -w 1 -m $m" -i "$target") ;;
        *) die "unknown tool $tool" ;;
    esac
}

record_run() {
    local scenario=$1 family=$2 tool=$3 target name dir rel v rc pid
    local pids=() files=()
    name=$scenario-v$family
    rel=$LAB_SUBDIR/$name/$tool
    dir=$OUT_DIR/$rel
    mkdir -p "$dir"
    rm -f "$dir"/*.pcap "$dir"/*.pcapng "$dir"/output.txt
    if [[ -n $M_TARGET ]]; then target=$M_TARGET
    elif [[ $family == 4 ]]; then target=$TARGET4; else target=$TARGET6; fi
    tool_command "$tool" "$family" "$target"
    if ((M_COLD_NEIGH)); then
        # Cold neighbour caches on both ends of the link: the run starts
        # with ARP / neighbour discovery, and the capture holds it.
        nsx "$NS_GUEST" ip neigh flush all
        nsx "$NS_LAN" ip neigh flush all
    fi

    start_capture "$NS_GUEST" "$GUEST_IF" "$dir/guest.pcap" "$name-$tool-guest"
    pids+=("$BG_PID"); files+=("$dir/guest.pcap")
    if [[ -n $M_HOST_NS ]]; then
        start_capture "$M_HOST_NS" "$HOST_UPLINK" "$dir/host.pcap" "$name-$tool-host"
        pids+=("$BG_PID"); files+=("$dir/host.pcap")
    fi
    for v in ${VARIANTS[$name/$tool]:-}; do
        case $v in
            guest-any)
                start_capture "$NS_GUEST" any "$dir/guest-any.pcap" "$name-$tool-$v" -y LINUX_SLL2
                files+=("$dir/guest-any.pcap") ;;
            guest-nano)
                start_capture "$NS_GUEST" "$GUEST_IF" "$dir/guest-nano.pcap" "$name-$tool-$v" \
                    --time-stamp-precision=nano
                files+=("$dir/guest-nano.pcap") ;;
            guest-pcapng)
                start_capture_pcapng "$NS_GUEST" "$GUEST_IF" "$dir/guest.pcapng" "$name-$tool-$v"
                files+=("$dir/guest.pcapng") ;;
            host-any)
                start_capture "$NS_HOST" any "$dir/host-any.pcap" "$name-$tool-$v" -y LINUX_SLL2
                files+=("$dir/host-any.pcap") ;;
            host-guestside)
                # The host's end of the guest link (veth scenarios): what a
                # capture on the VM's tap/bridge/vnet interface sees.
                [[ -n $M_HOST_GUEST_IF ]] || die "$v needs a veth scenario"
                start_capture "$NS_HOST" "$M_HOST_GUEST_IF" "$dir/host-guestside.pcap" "$name-$tool-$v"
                files+=("$dir/host-guestside.pcap") ;;
            *) die "unknown capture variant $v" ;;
        esac
        pids+=("$BG_PID")
    done
    sleep 0.5

    log "[$name] guest: ${M_CMD[*]}"
    nsx "$NS_GUEST" timeout "$M_TOOL_TIMEOUT" "${M_CMD[@]}" >"$dir/output.txt" 2>&1 && rc=0 || rc=$?
    ((rc == 0)) || log "[$name] $tool exited $rc, output kept"
    sed 's/^/    /' "$dir/output.txt" >&2

    sleep 1.5                     # late replies, slirp/pasta connection teardown
    for pid in "${pids[@]}"; do stop_pid "$pid" INT; done
    files+=("$dir/output.txt")
    WRITTEN+=("${files[@]}")

    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$scenario" "$family" "$tool" "$(tool_protocol "$tool")" "$rel" \
        "$GUEST_IF" "${M_HOST_NS:+$HOST_UPLINK}" "$M_GUEST_ADDR" "$M_GATEWAY" "$target" \
        "$rc" "${VARIANTS[$name/$tool]:-}" "${M_CMD[*]}" >>"$RUNS_TSV"
}

write_versions() {
    local f=$1 p
    {
        echo "recorded: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "kernel: $(uname -r)"
        echo "debian: $(cat /etc/debian_version 2>/dev/null || echo '?')"
        for p in slirp4netns libslirp0 passt nftables iptables traceroute tcptraceroute \
                 mtr-tiny hping3 scamper tcpdump libpcap0.8 wireshark-common tshark iproute2; do
            echo "$p: $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo 'not installed')"
        done
    } >"$f"
}

record_matrix() {
    local sel=("$@") s scen fam tool want_fams
    local -a todo=()
    ((${#sel[@]})) || sel=("${MATRIX_SCENARIOS[@]}")
    for s in "${sel[@]}"; do
        case $s in
            *-v4) scen=${s%-v4}; want_fams=(4) ;;
            *-v6) scen=${s%-v6}; want_fams=(6) ;;
            *)    scen=$s; want_fams=(4 6) ;;
        esac
        [[ " ${MATRIX_SCENARIOS[*]} " == *" $scen "* ]] ||
            die "unknown matrix scenario '$s' (${MATRIX_SCENARIOS[*]}, optionally -v4/-v6)"
        for fam in "${want_fams[@]}"; do todo+=("$scen $fam"); done
    done
    local tools
    read -r -a tools <<<"${TOOLS:-${MATRIX_TOOLS[*]}}"
    for tool in "${tools[@]}"; do
        [[ " ${MATRIX_TOOLS[*]} " == *" $tool "* ]] ||
            die "unknown tool '$tool' (${MATRIX_TOOLS[*]})"
    done

    mkdir -p "$OUT_DIR/$LAB_SUBDIR"
    RUNS_TSV=$OUT_DIR/$LAB_SUBDIR/runs.tsv
    if [[ ! -s $RUNS_TSV ]]; then
        printf 'scenario\tip_version\ttool\tprotocol\tdir\tguest_if\thost_if\tguest_address\tguest_gateway\ttarget_address\texit_code\tvariants\tcommand\n' >"$RUNS_TSV"
    fi
    write_versions "$OUT_DIR/$LAB_SUBDIR/versions.txt"

    local item
    for item in "${todo[@]}"; do
        read -r scen fam <<<"$item"
        log "=== matrix: $scen, IPv$fam ==="
        # Drop the earlier index rows of what is about to be re-recorded.
        local t
        for tool in "${tools[@]}"; do
            t=$(mktemp "$WORK/runs.XXXXXX")
            awk -F'\t' -v s="$scen" -v f="$fam" -v t="$tool" \
                'NR == 1 || !($1 == s && $2 == f && $3 == t)' "$RUNS_TSV" >"$t"
            cat "$t" >"$RUNS_TSV"; rm -f "$t"
        done
        matrix_setup "$scen" "$fam"
        for tool in "${tools[@]}"; do
            if ! tool_supports "$tool" "$fam"; then
                log "[$scen-v$fam] $tool: IPv4 only, skipped"
                continue
            fi
            record_run "$scen" "$fam" "$tool"
        done
        matrix_teardown "$scen"
    done
    # Keep the index in a stable order.
    local t
    t=$(mktemp "$WORK/runs.XXXXXX")
    { head -n 1 "$RUNS_TSV"; tail -n +2 "$RUNS_TSV" | sort -t$'\t' -k1,1 -k2,2n -k3,3; } >"$t"
    cat "$t" >"$RUNS_TSV"; rm -f "$t"
}

# ================================================================== extra
#
# The same run procedure as the matrix (record_run), into extra/ with its
# own index, for the cases listed under "extra settings".

record_extra() {
    local sel=("$@") s item scen fam tool t
    local -a todo=()
    ((${#sel[@]})) || sel=(guestside onlink)
    for s in "${sel[@]}"; do
        case $s in
            guestside) todo+=("${EXTRA_GUESTSIDE[@]}") ;;
            onlink) todo+=("${EXTRA_ONLINK[@]}") ;;
            *)
                [[ " ${EXTRA_GUESTSIDE[*]} ${EXTRA_ONLINK[*]} " == *" $s "* ]] ||
                    die "unknown extra set '$s' (guestside, onlink, ${EXTRA_GUESTSIDE[*]} ${EXTRA_ONLINK[*]})"
                todo+=("$s") ;;
        esac
    done
    # The guestside runs take the third capture on h-g.
    for item in "${EXTRA_GUESTSIDE[@]}"; do
        for tool in "${EXTRA_TOOLS[@]}"; do VARIANTS[$item/$tool]=host-guestside; done
    done

    LAB_SUBDIR=$EXTRA_SUBDIR
    mkdir -p "$OUT_DIR/$LAB_SUBDIR"
    RUNS_TSV=$OUT_DIR/$LAB_SUBDIR/runs.tsv
    if [[ ! -s $RUNS_TSV ]]; then
        printf 'scenario\tip_version\ttool\tprotocol\tdir\tguest_if\thost_if\tguest_address\tguest_gateway\ttarget_address\texit_code\tvariants\tcommand\n' >"$RUNS_TSV"
    fi
    write_versions "$OUT_DIR/$LAB_SUBDIR/versions.txt"

    for item in "${todo[@]}"; do
        scen=${item%-v[46]} fam=${item##*-v}
        log "=== extra: $scen, IPv$fam ==="
        for tool in "${EXTRA_TOOLS[@]}"; do
            t=$(mktemp "$WORK/runs.XXXXXX")
            awk -F'\t' -v s="$scen" -v f="$fam" -v t="$tool" \
                'NR == 1 || !($1 == s && $2 == f && $3 == t)' "$RUNS_TSV" >"$t"
            cat "$t" >"$RUNS_TSV"; rm -f "$t"
        done
        matrix_setup "$scen" "$fam"
        for tool in "${EXTRA_TOOLS[@]}"; do record_run "$scen" "$fam" "$tool"; done
        matrix_teardown "$scen"
    done
    t=$(mktemp "$WORK/runs.XXXXXX")
    { head -n 1 "$RUNS_TSV"; tail -n +2 "$RUNS_TSV" | sort -t$'\t' -k1,1 -k2,2n -k3,3; } >"$t"
    cat "$t" >"$RUNS_TSV"; rm -f "$t"
}

# ------------------------------------------------------------------- main

main() {
    local args=("$@") s f
    if ((${#args[@]})) && [[ ${args[0]} == matrix || ${args[0]} == extra ]]; then
        MODE=${args[0]}
        FAMILIES=(4 6)
        args=("${args[@]:1}")
    else
        ((${#args[@]})) || args=(slirp routed)
        for s in "${args[@]}"; do
            [[ $s == slirp || $s == routed ]] ||
                die "unknown scenario '$s' (slirp|routed, or: matrix [SCENARIO[-v4|-v6]]..., or: extra [guestside|onlink]...)"
        done
    fi

    require_root
    require_tools
    case $MODE in
        matrix) require_matrix_tools ;;
        extra) require_extra_tools ;;
    esac

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
    case $MODE in
        legacy) for s in "${args[@]}"; do record_scenario "$s"; done ;;
        matrix) record_matrix "${args[@]}" ;;
        extra) record_extra "${args[@]}" ;;
    esac

    log "wrote:"
    for f in "${WRITTEN[@]}"; do
        log "  $f ($(stat -c %s "$f") bytes)"
    done
    if [[ $MODE != legacy ]]; then
        if command -v tshark >/dev/null 2>&1; then
            log "regenerating manifest.tsv and $LAB_SUBDIR/ttl-facts.tsv"
            python3 "$SCRIPT_DIR/make-manifest.py" --samples "$OUT_DIR" ||
                log "make-manifest.py failed (captures are kept)"
        fi
    fi
}

main "$@"
