/**
 * What the link-layer tests share: the link settings the scapy reference frames were made for
 * (red 00:00:5e:00:53:01, black 00:00:5e:00:53:02, router 2001:db8:1::1/64, TEP 192.0.2.1/24),
 * a receive slot to feed frames from, and the frames a transmit queue holds.
 */
import { addressBytes } from '../../src/config/address-fields.js';
import type { LinkConfig } from '../../src/link/link-config.js';
import { LinkPort, type LinkTransmitQueue } from '../../src/link/transmit-queue.js';
import { parseIpv6 } from '../../src/policy/address-text.js';

/** The 16 bytes of an IPv6 address written as text, as the config loader holds it. */
export function ipv6Bytes(text: string): Uint8Array {
  return addressBytes(6, parseIpv6(text)!);
}

/** The link of the reference frames, without an IPv4 next hop (off-subnet IPv4 is unreachable). */
export const LINK_CONFIG: LinkConfig = Object.freeze({
  redMac: '00:00:5e:00:53:01',
  blackMac: '00:00:5e:00:53:02',
  routerAddress: ipv6Bytes('2001:db8:1::1'),
  routerPrefixLength: 64,
  tepAddress: 0xc0000201, // 192.0.2.1
  tepPrefixLength: 24,
  tunnelInnerMtu: 1400,
});

/** The same link with 192.0.2.254 as the IPv4 next hop. */
export const LINK_CONFIG_WITH_NEXT_HOP: LinkConfig = Object.freeze({ ...LINK_CONFIG, ipv4NextHop: 0xc00002fe /* 192.0.2.254 */ });

/**
 * A frame given as hex, copied to a non-zero offset of a larger buffer like a receive slot, as the
 * (bytes, offset, length) arguments of a `receive` method.
 */
export function inReceiveSlot(hex: string): [bytes: Uint8Array, offset: number, length: number] {
  const frame = Buffer.from(hex, 'hex');
  const slot = new Uint8Array(2048);
  slot.set(frame, 64);
  return [slot, 64, frame.length];
}

/** The frames queued to leave on `port`, in order, as hex. */
export function sentOn(transmit: LinkTransmitQueue, port: LinkPort): string[] {
  const list = port === LinkPort.Red ? transmit.red : transmit.black;
  const count = port === LinkPort.Red ? transmit.redCount : transmit.blackCount;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = transmit.slots.start[list[i]];
    out.push(Buffer.from(transmit.slots.bytes.subarray(start, start + transmit.slots.length[list[i]])).toString('hex'));
  }
  return out;
}
