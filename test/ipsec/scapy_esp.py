#!/usr/bin/python3
"""Independent ESP implementation for the interop tests: scapy's IPsec layer behind JSON.

stdin:  {"ops": [{"op": "encrypt" | "decrypt", "alg": "AES-GCM" | "CHACHA20-POLY1305",
                  "key": hex (key || 4-byte salt), "spi": int, "tunnel": null | {"src", "dst"},
                  "natT": null | {"sport", "dport"}, "esnHigh": null | int, "seq": int,
                  "packet": hex (clear IP packet to encrypt, or sealed IP packet to decrypt)}]}
stdout: {"results": [{"packet": hex} | {"error": str}]}

Works around scapy 2.5 bugs: with nat_t_header the UDP length stays 8 (fixed here after
encrypt); decrypt does not understand ESP-in-UDP (the UDP header is removed first, as
RFC 3948 section 3.1 decapsulation does).
"""
import ipaddress
import json
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.packet import Raw


def ip_class(raw_packet):
    return IP if raw_packet[0] >> 4 == 4 else IPv6


def address_header(src, dst):
    return IP(src=src, dst=dst) if ipaddress.ip_address(src).version == 4 else IPv6(src=src, dst=dst)


def make_sa(op):
    kwargs = {}
    if op.get("tunnel"):
        kwargs["tunnel_header"] = address_header(op["tunnel"]["src"], op["tunnel"]["dst"])
    if op.get("natT"):
        kwargs["nat_t_header"] = UDP(sport=op["natT"]["sport"], dport=op["natT"]["dport"])
    if op.get("esnHigh") is not None:
        kwargs["esn_en"] = True
        kwargs["esn"] = op["esnHigh"]
    return SecurityAssociation(ESP, spi=op["spi"], crypt_algo=op["alg"],
                               crypt_key=bytes.fromhex(op["key"]), auth_algo="NULL", **kwargs)


def fix_nat_t_length(sealed):
    """scapy 2.5 leaves the UDP length at 8 and the checksum at 0; IPv6 needs a real checksum."""
    udp = sealed[UDP]
    udp.len = 8 + len(bytes(udp.payload))
    if sealed.version == 6:
        del udp.chksum
    return sealed.__class__(bytes(sealed))


def strip_nat_t(pkt):
    """RFC 3948 section 3.1: ESP-in-UDP becomes plain ESP by removing the UDP header."""
    esp_bytes = bytes(pkt[UDP].payload)
    header = pkt.copy()
    header.remove_payload()
    if header.version == 4:
        header.proto = 50
        del header.len
        del header.chksum
    else:
        header.nh = 50
        del header.plen
    return header.__class__(bytes(header / Raw(esp_bytes)))


def run(op):
    raw_packet = bytes.fromhex(op["packet"])
    pkt = ip_class(raw_packet)(raw_packet)
    sa = make_sa(op)
    if op["op"] == "encrypt":
        sealed = sa.encrypt(pkt, seq_num=op["seq"])
        if op.get("natT"):
            sealed = fix_nat_t_length(sealed)
        return bytes(sealed)
    if op.get("natT"):
        pkt = strip_nat_t(pkt)
    return bytes(sa.decrypt(pkt))


def main():
    request = json.load(sys.stdin)
    results = []
    for op in request["ops"]:
        try:
            results.append({"packet": run(op).hex()})
        except Exception as error:  # report per op, keep going
            results.append({"error": f"{type(error).__name__}: {error}"})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
