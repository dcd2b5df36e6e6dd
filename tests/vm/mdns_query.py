#!/usr/bin/env python3
"""Asks the local link who `NAME.local` is, the way another machine on the LAN would.

A one-question mDNS query (RFC 6762) for the A record, sent from port 5353 to
224.0.0.251 out of the interface that holds SOURCE_IP, with the unicast-response bit
set. The answer is taken whether the responder sends it by unicast or multicast.
Prints the first IPv4 address found and exits 0; exits 1 when none came in time.

    mdns_query.py NAME.local SOURCE_IP [TIMEOUT_S]
"""
import socket
import struct
import sys
import time

MDNS_GROUP = "224.0.0.251"
MDNS_PORT = 5353
TYPE_A = 1
CLASS_IN_QU = 0x8001  # class IN with the "unicast response wanted" bit


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_name(msg, pos):
    """Returns (lower-cased name, position after it), following compression pointers."""
    labels, end = [], None
    for _ in range(64):
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | msg[pos + 1]
            continue
        if length == 0:
            return ".".join(labels).lower(), (end if end is not None else pos + 1)
        labels.append(msg[pos + 1 : pos + 1 + length].decode(errors="replace"))
        pos += 1 + length
    raise ValueError("name loop")


def a_records(msg, wanted):
    """IPv4 addresses for `wanted` among the answer and additional records of a response."""
    _id, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    if not flags & 0x8000:  # a query (ours, looped back), not a response
        return []
    pos = 12
    for _ in range(qd):
        _, pos = read_name(msg, pos)
        pos += 4
    found = []
    for _ in range(an + ns + ar):
        name, pos = read_name(msg, pos)
        rtype, _rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[pos : pos + 10])
        pos += 10
        if rtype == TYPE_A and rdlen == 4 and name == wanted:
            found.append(socket.inet_ntoa(msg[pos : pos + 4]))
        pos += rdlen
    return found


def main():
    name, source = sys.argv[1].lower().rstrip("."), sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    query = struct.pack("!6H", 0, 0, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", TYPE_A, CLASS_IN_QU)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", MDNS_PORT))
    sock.setsockopt(
        socket.IPPROTO_IP,
        socket.IP_ADD_MEMBERSHIP,
        socket.inet_aton(MDNS_GROUP) + socket.inet_aton(source),
    )
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)

    deadline = time.monotonic() + timeout
    next_send = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            sock.sendto(query, (MDNS_GROUP, MDNS_PORT))
            next_send = now + 1.0
        sock.settimeout(max(0.05, min(next_send, deadline) - time.monotonic()))
        try:
            msg, _peer = sock.recvfrom(9000)
        except socket.timeout:
            continue
        try:
            addrs = a_records(msg, name)
        except (ValueError, IndexError, struct.error):
            continue
        if addrs:
            print(addrs[0])
            return 0
    print(f"no mDNS answer for {name} within {timeout:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
