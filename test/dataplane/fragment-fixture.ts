/**
 * IPv4 fragments for reassembly tests, cut as RFC 791 §3.2 describes, independently of the code
 * under test: header fields are written byte by byte and the checksum summed here.
 * Also the frames a pipeline put out on black, fragments included.
 */
import type { FrameSlots } from '../../src/dataplane/frame-slots.js';
import type { Pipeline } from '../../src/dataplane/pipeline.js';
import type { LinkTransmitQueue } from '../../src/link/transmit-queue.js';

/** The one's-complement checksum of a header (RFC 1071), written into it. */
export function fillIpv4HeaderChecksum(header: Uint8Array): void {
  header[10] = header[11] = 0;
  let sum = 0;
  for (let k = 0; k < header.length; k += 2) sum += (header[k] << 8) | header[k + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  header[10] = checksum >>> 8;
  header[11] = checksum & 0xff;
}

/** A piece of a datagram's payload: [start, end) in bytes, and whether more fragments follow (MF). */
export interface FragmentCut { start: number; end: number; more: boolean }

/** Cuts into pieces of `size` payload bytes (a multiple of 8), the last one shorter. */
export function evenCuts(payloadLength: number, size: number): FragmentCut[] {
  const cuts: FragmentCut[] = [];
  for (let start = 0; start < payloadLength; start += size) {
    const end = Math.min(start + size, payloadLength);
    cuts.push({ start, end, more: end < payloadLength });
  }
  return cuts;
}

/**
 * The fragments of the IPv4 datagram `ip` (header and payload), one per cut, each with the
 * datagram's header (options kept only in the first, as none here are copied) and its DF bit.
 */
export function fragmentIpv4(ip: Uint8Array, cuts: readonly FragmentCut[]): Uint8Array[] {
  const headerLength = (ip[0] & 0x0f) * 4;
  const total = (ip[2] << 8) | ip[3];
  return cuts.map(({ start, end, more }) => {
    const header = ip.slice(0, start === 0 ? headerLength : 20);
    if (start !== 0) header[0] = 0x45;
    const length = header.length + end - start;
    header[2] = length >>> 8;
    header[3] = length & 0xff;
    const field = (ip[6] & 0x40) << 8 | (more ? 0x2000 : 0) | (start >>> 3);
    header[6] = field >>> 8;
    header[7] = field & 0xff;
    fillIpv4HeaderChecksum(header);
    const out = new Uint8Array(length);
    out.set(header, 0);
    out.set(ip.subarray(headerLength + start, Math.min(headerLength + end, total)), header.length);
    return out;
  });
}

/** The same for an Ethernet frame carrying IPv4 at byte 14: each fragment behind the frame's own Ethernet header. */
export function fragmentIpv4Frame(frame: Uint8Array, cuts: readonly FragmentCut[]): Uint8Array[] {
  return fragmentIpv4(frame.subarray(14), cuts).map((ip) => {
    const out = new Uint8Array(14 + ip.length);
    out.set(frame.subarray(0, 14), 0);
    out.set(ip, 14);
    return out;
  });
}

/**
 * The black frames `pipeline` put out for its last batch over `slots`: those it sends from the
 * slots (a first fragment among them), then the later fragments it queued on `queue`.
 */
export function blackFramesOut(pipeline: Pipeline, slots: FrameSlots, queue: LinkTransmitQueue): Uint8Array[] {
  const frame = (bytes: Uint8Array, start: number, length: number) => bytes.slice(start, start + length);
  const sent = Array.from(pipeline.txBlack.slots.subarray(0, pipeline.txBlack.count), (i) => frame(slots.bytes, slots.start[i], slots.length[i]));
  const queued = Array.from(queue.black.subarray(0, queue.blackCount), (k) => frame(queue.slots.bytes, queue.slots.start[k], queue.slots.length[k]));
  return [...sent, ...queued];
}
