/**
 * Reader of classic libpcap capture files (what `tcpdump -w` writes): the 24-byte file header
 * and the 16-byte record headers, in either byte order, with microsecond or nanosecond
 * timestamps. Records are returned as offsets into the caller's bytes (nothing is copied).
 * Format: https://www.tcpdump.org/manpages/pcap-savefile.5.txt (draft-ietf-opsawg-pcap §4, §5).
 */

/** LINKTYPE_ETHERNET: the records start with an Ethernet header. */
export const LINKTYPE_ETHERNET = 1;

const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;
/** Largest record a sane capture holds (libpcap's MAXIMUM_SNAPLEN). */
const MAX_RECORD_BYTES = 262144;

export interface PcapRecord {
  /** Capture time in seconds since the epoch (fraction included). */
  readonly time: number;
  /** Offset of the captured bytes in the file. */
  readonly offset: number;
  /** Bytes present in the file (at most the snap length). */
  readonly capturedLength: number;
  /** Length of the frame on the wire. */
  readonly originalLength: number;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snapLength: number;
  readonly records: readonly PcapRecord[];
}

export class PcapError extends Error {
  override readonly name = 'PcapError';
}

/** Parses a whole classic pcap file. Throws PcapError naming the bad field. */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < FILE_HEADER_BYTES) {
    throw new PcapError(`pcap: file is ${bytes.length} bytes, shorter than the ${FILE_HEADER_BYTES}-byte file header; was the capture stopped before it started?`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBig = view.getUint32(0, false);
  const magicLittle = view.getUint32(0, true);
  let littleEndian: boolean;
  let fractionScale: number;
  if (magicLittle === MAGIC_MICROSECONDS || magicBig === MAGIC_MICROSECONDS) {
    littleEndian = magicLittle === MAGIC_MICROSECONDS;
    fractionScale = 1e-6;
  } else if (magicLittle === MAGIC_NANOSECONDS || magicBig === MAGIC_NANOSECONDS) {
    littleEndian = magicLittle === MAGIC_NANOSECONDS;
    fractionScale = 1e-9;
  } else if (magicBig === MAGIC_PCAPNG) {
    throw new PcapError('pcap: magic number is pcapng; write classic pcap (tcpdump -w, or tshark -F pcap)');
  } else {
    throw new PcapError(`pcap: magic number 0x${magicBig.toString(16).padStart(8, '0')} is not a pcap file header (expected a1b2c3d4 or a1b23c4d)`);
  }
  const major = view.getUint16(4, littleEndian);
  if (major !== 2) {
    throw new PcapError(`pcap: version major ${major} is not supported (expected 2)`);
  }
  const snapLength = view.getUint32(16, littleEndian);
  // The low 16 bits hold the link type; the upper bits may carry FCS information (§4).
  const linkType = view.getUint32(20, littleEndian) & 0xffff;

  const records: PcapRecord[] = [];
  let offset = FILE_HEADER_BYTES;
  while (offset < bytes.length) {
    if (offset + RECORD_HEADER_BYTES > bytes.length) {
      throw new PcapError(`pcap: record ${records.length} header at offset ${offset} is cut off by the end of the file (${bytes.length} bytes); stop tcpdump with SIGINT/SIGTERM so it flushes whole records`);
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const capturedLength = view.getUint32(offset + 8, littleEndian);
    const originalLength = view.getUint32(offset + 12, littleEndian);
    if (capturedLength > MAX_RECORD_BYTES) {
      throw new PcapError(`pcap: record ${records.length} at offset ${offset} claims ${capturedLength} captured bytes, more than ${MAX_RECORD_BYTES}; the file is corrupt`);
    }
    const data = offset + RECORD_HEADER_BYTES;
    if (data + capturedLength > bytes.length) {
      throw new PcapError(`pcap: record ${records.length} at offset ${offset} needs ${capturedLength} bytes but the file ends after ${bytes.length - data}`);
    }
    records.push({ time: seconds + fraction * fractionScale, offset: data, capturedLength, originalLength });
    offset = data + capturedLength;
  }
  return { linkType, snapLength, records };
}
