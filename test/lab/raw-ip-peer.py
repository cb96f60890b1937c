#!/usr/bin/python3
"""A tunnel router's IPv4 end for the namespace lab, where the kernel has no sit or ipip module.

Sends whole IPv4 packets as given (IP_HDRINCL: header and payload byte for byte) and receives
the IPv4 packets of the listed protocols that reach this namespace, header included, on raw
sockets (socket(AF_INET, SOCK_RAW, proto)). Linux gives raw sockets the received header as it
arrived, so what one peer sends can be compared byte for byte with what the other receives.

    raw-ip-peer.py [--listen 41,1] [--expect N] [--timeout S] [--send HEX]...

Prints "listening" on stderr once the sockets are open, then sends, then waits until N packets
arrived (with --expect 0: until the timeout) or S seconds passed, and prints one JSON object on stdout:
{"sent": [...], "received": [{"protocol": 41, "hex": "45..."}]}. Exit status 2 on bad usage (argparse).
"""
import argparse
import json
import select
import socket
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--listen', default='', help='comma-separated IP protocol numbers to receive')
    parser.add_argument('--expect', type=int, default=0, help='stop after this many packets')
    parser.add_argument('--timeout', type=float, default=3.0, help='stop after this many seconds (at most 30)')
    parser.add_argument('--send', action='append', default=[], help='an IPv4 packet in hex, sent as is')
    args = parser.parse_args()
    timeout = min(max(args.timeout, 0.0), 30.0)
    protocols = [int(p) for p in args.listen.split(',') if p != '']

    listeners = []
    for proto in protocols:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
        s.setblocking(False)
        listeners.append((s, proto))
    print('listening', file=sys.stderr, flush=True)

    # One sending socket per protocol, of that protocol: ICMP errors about what it sent reach it,
    # so the kernel applies them as it would for a tunnel (e.g. the path MTU, RFC 1191).
    senders = {}
    sent = []
    for text in args.send:
        packet = bytes.fromhex(text)
        protocol = packet[9]
        if protocol not in senders:
            senders[protocol] = socket.socket(socket.AF_INET, socket.SOCK_RAW, protocol)
            senders[protocol].setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        try:
            senders[protocol].sendto(packet, (socket.inet_ntoa(packet[16:20]), 0))
            sent.append({'length': len(packet), 'error': None})
        except OSError as e:
            sent.append({'length': len(packet), 'error': e.strerror})

    received = []
    deadline = time.monotonic() + timeout
    # --expect 0: collect whatever arrives until the timeout (to show that nothing does).
    while listeners and (args.expect == 0 or len(received) < args.expect) and time.monotonic() < deadline:
        ready, _, _ = select.select([s for s, _ in listeners], [], [], max(0.0, deadline - time.monotonic()))
        for s, proto in listeners:
            if s in ready:
                received.append({'protocol': proto, 'hex': s.recv(65535).hex()})
    print(json.dumps({'sent': sent, 'received': received}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
