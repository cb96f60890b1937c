import { describe, expect, it } from 'vitest';
import { PcapError, readPcap } from '../../src/lab/pcap.js';

function pcapHeader(magic: number, littleEndian: boolean, linkType: number): DataView {
  const view = new DataView(new ArrayBuffer(24));
  view.setUint32(0, magic, littleEndian);
  view.setUint16(4, 2, littleEndian);
  view.setUint16(6, 4, littleEndian);
  view.setUint32(16, 65535, littleEndian);
  view.setUint32(20, linkType, littleEndian);
  return view;
}

function recordHeader(seconds: number, fraction: number, captured: number, original: number, littleEndian: boolean): Uint8Array {
  const view = new DataView(new ArrayBuffer(16));
  view.setUint32(0, seconds, littleEndian);
  view.setUint32(4, fraction, littleEndian);
  view.setUint32(8, captured, littleEndian);
  view.setUint32(12, original, littleEndian);
  return new Uint8Array(view.buffer);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

describe('readPcap', () => {
  it('reads big-endian files with nanosecond timestamps', () => {
    const frame = new Uint8Array(60).fill(0xab);
    const file = concat(new Uint8Array(pcapHeader(0xa1b23c4d, false, 1).buffer), recordHeader(10, 500_000_000, 60, 1514, false), frame);
    const pcap = readPcap(file);
    expect(pcap.snapLength).toBe(65535);
    expect(pcap.records).toEqual([{ time: 10.5, offset: 40, capturedLength: 60, originalLength: 1514 }]);
  });

  it('keeps only the link type from the link-type field (FCS bits are ignored)', () => {
    const header = pcapHeader(0xa1b2c3d4, true, 1 | (0x1 << 26));
    expect(readPcap(new Uint8Array(header.buffer)).linkType).toBe(1);
  });

  it('rejects files it cannot read, naming the problem', () => {
    expect(() => readPcap(new Uint8Array(10))).toThrow(/shorter than the 24-byte file header/);
    expect(() => readPcap(new Uint8Array(pcapHeader(0x0a0d0d0a, false, 1).buffer))).toThrow(/pcapng/);
    expect(() => readPcap(new Uint8Array(pcapHeader(0x12345678, false, 1).buffer))).toThrow(PcapError);
    const v1 = pcapHeader(0xa1b2c3d4, true, 1);
    v1.setUint16(4, 1, true);
    expect(() => readPcap(new Uint8Array(v1.buffer))).toThrow(/version major 1/);
  });

  it('rejects a record cut off by the end of the file or larger than any capture', () => {
    const header = new Uint8Array(pcapHeader(0xa1b2c3d4, true, 1).buffer);
    expect(() => readPcap(concat(header, recordHeader(1, 0, 60, 60, true).subarray(0, 10)))).toThrow(/header at offset 24 is cut off/);
    expect(() => readPcap(concat(header, recordHeader(1, 0, 60, 60, true), new Uint8Array(59)))).toThrow(/needs 60 bytes but the file ends after 59/);
    expect(() => readPcap(concat(header, recordHeader(1, 0, 300000, 300000, true)))).toThrow(/claims 300000 captured bytes/);
    expect(readPcap(header).records).toEqual([]);
  });
});
