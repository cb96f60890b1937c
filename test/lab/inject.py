"""Crafts hostile or hand-made frames for test/lab/gateway-defences.test.ts and sends each once on
a lab interface (normally wan's bridge). Run with Debian's /usr/bin/python3, which has scapy 2.5,
inside the wan namespace. Prints the hex of the frames it sent (space-separated), so the test can log or reuse them.

  sit          clear 6in4 (IPv4 protocol 41, RFC 4213 §3.5) carrying an ICMPv6 Echo Request
  esp          the same 6in4 packet under ESP transport mode (RFC 4303 §3.1.1), AES-GCM-16 with
               64-bit ESN (RFC 4106 §5, RFC 4303 §2.2.1), as a manually keyed peer would send it;
               with --fragment SIZE cut by scapy into IPv4 fragments of at most SIZE bytes (as a
               router on the path would, DF clear) and sent last fragment first
  frag-needed  ICMPv4 Destination Unreachable, Fragmentation Needed (RFC 792, RFC 1191 §4) quoting
               an ESP packet's IPv4 header and first 8 bytes (SPI, sequence number)
  frame        an Ethernet frame given as hex (a captured frame replayed or tampered with)

Known scapy 2.5 pitfalls avoided here: seq_num=0 counts as unset (sequence numbers start at 1),
and AES-GCM ICVs are always 16 bytes (which is what the lab SAs use).
"""
import argparse
import sys

from scapy.all import ICMP, IP, IPv6, ICMPv6EchoRequest, Ether, Raw, fragment, sendp
from scapy.layers.ipsec import ESP, SecurityAssociation


def inner_echo(args):
    """IPv6 Echo Request with a recognisable identifier, as red-a's ping would send it."""
    data = b"redblack-defences"
    if args.echo_size > len(data):
        data += bytes(k & 0xFF for k in range(args.echo_size - len(data)))
    return IPv6(src=args.inner_src, dst=args.inner_dst, hlim=64) / ICMPv6EchoRequest(
        id=args.echo_id, seq=1, data=data)


def six_in_four(args):
    # RFC 4213 §3.5: outer protocol 41, DF set as the lab's TEPs send it.
    return IP(src=args.outer_src, dst=args.outer_dst, proto=41, flags="DF", ttl=64) / inner_echo(args)


def build_esp(args):
    key = bytes.fromhex(args.key[2:] if args.key.startswith("0x") else args.key)
    if len(key) != 20:
        sys.exit(f"inject.py esp: --key is {len(key)} bytes; AES-GCM-16-128 needs 16 key bytes + 4 salt bytes (RFC 4106 §8.1)")
    if args.seq < 1 or args.seq > 0xFFFFFFFF:
        sys.exit(f"inject.py esp: --seq {args.seq} is outside 1..2^32-1 (scapy treats 0 as unset)")
    sa = SecurityAssociation(ESP, spi=args.spi, crypt_algo="AES-GCM", crypt_key=key,
                             esn_en=True, esn=args.esn_high)
    return sa.encrypt(six_in_four(args), seq_num=args.seq)


def build_frag_needed(args):
    # The quoted packet: an ESP packet TEP-A -> TEP-B as the gateway sent it (DF set), of which
    # an IPv4 router returns the header and the first 64 bits (RFC 792): SPI and sequence number.
    quoted = IP(src=args.quote_src, dst=args.quote_dst, proto=50, flags="DF", ttl=63, len=args.quote_length) / Raw(
        args.quote_spi.to_bytes(4, "big") + (1).to_bytes(4, "big"))
    return IP(src=args.router, dst=args.quote_src, ttl=64) / ICMP(type=3, code=4, nexthopmtu=args.mtu) / quoted


def main():
    parser = argparse.ArgumentParser(prog="inject.py", description=__doc__.split("\n")[0])
    parser.add_argument("--iface", required=True, help="interface to send on (wan's br0)")
    parser.add_argument("--dst-mac", help="destination MAC (the target gateway's black port); not for 'frame'")
    parser.add_argument("--src-mac", default="02:00:00:00:0b:ad", help="source MAC of the attacker")
    sub = parser.add_subparsers(dest="kind", required=True)

    def tunnel_args(p):
        p.add_argument("--outer-src", required=True)
        p.add_argument("--outer-dst", required=True)
        p.add_argument("--inner-src", required=True)
        p.add_argument("--inner-dst", required=True)
        p.add_argument("--echo-id", type=int, required=True)
        p.add_argument("--echo-size", type=int, default=0, help="Echo Request data bytes (default: a short marker)")

    tunnel_args(sub.add_parser("sit"))
    esp = sub.add_parser("esp")
    tunnel_args(esp)
    esp.add_argument("--spi", type=lambda s: int(s, 0), required=True)
    esp.add_argument("--key", required=True, help="20 bytes hex: AES-128 key then 4-byte salt")
    esp.add_argument("--seq", type=int, required=True, help="low 32 bits of the sequence number")
    esp.add_argument("--esn-high", type=int, default=0, help="high 32 bits of the ESN (RFC 4303 §2.2.1)")
    esp.add_argument("--fragment", type=int, default=0, help="cut into IPv4 fragments of at most this many bytes")
    frag = sub.add_parser("frag-needed")
    frag.add_argument("--router", required=True, help="source of the ICMP error (a router on the path)")
    frag.add_argument("--quote-src", required=True, help="the gateway's TEP (the ICMP goes to it)")
    frag.add_argument("--quote-dst", required=True, help="the peer's TEP")
    frag.add_argument("--quote-spi", type=lambda s: int(s, 0), required=True)
    frag.add_argument("--quote-length", type=int, default=1500)
    frag.add_argument("--mtu", type=int, required=True, help="Next-Hop MTU (RFC 1191 §4)")
    raw = sub.add_parser("frame")
    raw.add_argument("--hex", required=True, help="the whole Ethernet frame")
    args = parser.parse_args()

    if args.kind == "frame":
        frames = [Ether(bytes.fromhex(args.hex))]
    else:
        if args.dst_mac is None:
            sys.exit(f"inject.py {args.kind}: --dst-mac is required (the target gateway's black MAC)")
        build = {"sit": six_in_four, "esp": build_esp, "frag-needed": build_frag_needed}[args.kind]
        packet = build(args)
        if getattr(args, "fragment", 0):
            # A router on the path fragments what it may (RFC 791 §3.2): DF clear.
            packet = IP(bytes(packet))
            packet.flags = 0
            packets = list(reversed(fragment(packet, fragsize=args.fragment - 20)))
        else:
            packets = [packet]
        frames = [Ether(src=args.src_mac, dst=args.dst_mac) / p for p in packets]
    for frame in frames:
        sendp(frame, iface=args.iface, verbose=False)
    print(" ".join(bytes(frame).hex() for frame in frames))


if __name__ == "__main__":
    main()
