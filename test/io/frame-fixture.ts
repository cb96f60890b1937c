/**
 * Test frames for raw frame I/O, shared by test/io/frame-port.test.ts and bench/frame-io.ts:
 * Ethernet frames of the IEEE 802 local experimental EtherType carrying a sequence number.
 */
import type { FrameSlots } from '../../src/dataplane/frame-slots.js';

/** IEEE Std 802 Local Experimental EtherType 1: never assigned to a real protocol. */
export const TEST_ETHERTYPE = 0x88b5;
/** Offset of the frame's 32-bit sequence number, right after the Ethernet header. */
export const SEQ_OFFSET = 14;

/** The 6 bytes of a MAC address written "aa:bb:cc:dd:ee:ff". */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/**
 * Writes a test frame of `length` bytes from `src` to `dst` into `slot` (at the headroom) and sets
 * its start and length: sequence number `seq`, then bytes (seq + offset) & 0xff.
 */
export function putFrame(slots: FrameSlots, slot: number, dst: string, src: string, length: number, seq: number): void {
  const at = slots.base(slot) + slots.headroom;
  slots.bytes.set(macBytes(dst), at);
  slots.bytes.set(macBytes(src), at + 6);
  slots.view.setUint16(at + 12, TEST_ETHERTYPE);
  slots.view.setUint32(at + SEQ_OFFSET, seq);
  for (let i = SEQ_OFFSET + 4; i < length; i++) slots.bytes[at + i] = (seq + i) & 0xff;
  slots.start[slot] = at;
  slots.length[slot] = length;
}

/** The slot list 0, 1, ..., n - 1. */
export function slotRange(n: number): Uint16Array {
  return Uint16Array.from({ length: n }, (_, i) => i);
}
