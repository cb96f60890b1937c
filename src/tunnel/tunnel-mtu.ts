/**
 * Tunnel MTU: the largest packet that still fits the black path after ESP (RFC 4303 §2:
 * SPI, Seq, IV, padding to 4 bytes, Pad Length, Next Header, ICV), optional UDP encapsulation
 * (RFC 3948) and the outer IP header. With a 1500-byte black MTU, AES-GCM ESP transport over
 * 6in4 leaves 1446 bytes for the inner IPv6 packet, 1438 with UDP encapsulation.
 */
import { ESP_MIN_OVERHEAD } from '../ipsec/esp.js';
import { espPadLength } from '../wire/esp.js';
import { IPV4_MIN_HEADER_BYTES } from '../wire/ipv4.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import { UDP_HEADER_BYTES } from '../wire/udp.js';

/** IPv4 networks must carry 576-byte datagrams (RFC 791 §3.1); lower PMTU reports are ignored. */
export const MIN_IPV4_PATH_MTU = 576;

/**
 * The largest ESP payload (the bytes ESP protects: the inner packet in tunnel mode, what follows
 * the IP header in transport mode) such that the packet on the wire is at most `pathMtu`.
 * `outerHeaderBytes` is the IP header in front of ESP (20 for IPv4 without options, 40 for IPv6).
 */
export function largestEspPayload(pathMtu: number, outerHeaderBytes: number, udpEncapsulated: boolean): number {
  const fixed = outerHeaderBytes + (udpEncapsulated ? UDP_HEADER_BYTES : 0) + ESP_MIN_OVERHEAD;
  for (let p = pathMtu - fixed; p > 0; p--) {
    if (fixed + p + espPadLength(p) <= pathMtu) return p;
  }
  return 0;
}

/** Bytes on the wire for an ESP payload of `payload` bytes. */
export function espWireLength(payload: number, outerHeaderBytes: number, udpEncapsulated: boolean): number {
  return outerHeaderBytes + (udpEncapsulated ? UDP_HEADER_BYTES : 0) + ESP_MIN_OVERHEAD + payload + espPadLength(payload);
}

/**
 * The lowest IPv4 path MTU toward a peer that PMTU reports may set: what a 1280-byte IPv6 packet
 * needs under ESP (UDP-encapsulated, the largest overhead) in IPv4. The tunnel MTU is never below
 * 1280 (RFC 4213 §3.2) and the gateway does not fragment after ESP, so a lower estimate could
 * carry nothing the hosts are told to send.
 */
export const MIN_TUNNEL_PATH_MTU = espWireLength(IPV6_MIN_MTU, IPV4_MIN_HEADER_BYTES, true);
