import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from '../../src/dataplane/drop-reason.js';
import { DATAGRAM_REASSEMBLED, FRAGMENT_HELD, Ipv4Reassembly, MAX_FRAGMENTS_PER_DATAGRAM, REASSEMBLY_TIMEOUT_MS } from '../../src/dataplane/ipv4-reassembly.js';
import { Ipv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { WireStatus } from '../../src/wire/status.js';
import { evenCuts, fillIpv4HeaderChecksum, fragmentIpv4, type FragmentCut } from './fragment-fixture.js';

/** An ESP datagram 192.0.2.2 -> 192.0.2.1 with DF set and `payload` bytes of a recognisable pattern; `options`: a 4-byte option area (NOP x3, EOL). */
function datagram(payload: number, id = 0x1234, options = false): Uint8Array {
  const headerLength = options ? 24 : 20;
  const ip = new Uint8Array(headerLength + payload);
  ip[0] = 0x40 | (headerLength / 4);
  ip[2] = ip.length >>> 8;
  ip[3] = ip.length & 0xff;
  ip[4] = id >>> 8;
  ip[5] = id & 0xff;
  ip[6] = 0x40; // DF
  ip[8] = 64;
  ip[9] = 50;
  ip.set([192, 0, 2, 2, 192, 0, 2, 1], 12);
  if (options) ip.set([1, 1, 1, 0], 20);
  for (let k = 0; k < payload; k++) ip[headerLength + k] = (k * 13 + 5) & 0xff;
  fillIpv4HeaderChecksum(ip.subarray(0, headerLength));
  return ip;
}

/** A copy of datagram `ip` with byte `at` of its header set to `value` (a key field) and its checksum sealed again. */
function variant(ip: Uint8Array, at: number, value: number): Uint8Array {
  const out = ip.slice();
  out[at] = value;
  fillIpv4HeaderChecksum(out.subarray(0, 20));
  return out;
}

/** Feeds fragment `fragment` to `r` the way the pipeline does: parsed and checked, in a slot with `room` bytes. */
class Slot {
  readonly bytes = new Uint8Array(4096);
  readonly header = new Ipv4Header();
  static readonly AT = 142;
  constructor(private readonly r: Ipv4Reassembly, private readonly room = 2000) {}
  add(fragment: Uint8Array, now = 0): number {
    this.bytes.fill(0);
    this.bytes.set(fragment, Slot.AT);
    expect(parseIpv4(this.bytes, Slot.AT, fragment.length, this.header)).toBe(WireStatus.Ok);
    return this.r.add(this.bytes, Slot.AT, this.header, Slot.AT + this.room, now);
  }
  /** The datagram the last add left in place. */
  whole(): Uint8Array {
    const total = (this.bytes[Slot.AT + 2] << 8) | this.bytes[Slot.AT + 3];
    return this.bytes.slice(Slot.AT, Slot.AT + total);
  }
}

function setup(options: ConstructorParameters<typeof Ipv4Reassembly>[1] = {}) {
  const drops = new DropCounters();
  const r = new Ipv4Reassembly(drops, options);
  return { drops, r, slot: new Slot(r) };
}

describe('IPv4 reassembly (RFC 791 §3.2, RFC 815)', () => {
  it('puts fragments that arrive in any order back into the datagram byte for byte: MF and offset cleared, DF and options kept, checksum valid', () => {
    fc.assert(fc.property(
      fc.integer({ min: 9, max: 1900 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      (payload, eighths, options, seed) => {
        const { drops, r, slot } = setup();
        const original = datagram(payload, 0x4242, options);
        // At most MAX_FRAGMENTS_PER_DATAGRAM pieces.
        const size = Math.max(eighths, Math.ceil(payload / 8 / MAX_FRAGMENTS_PER_DATAGRAM)) * 8;
        const fragments = fragmentIpv4(original, evenCuts(payload, size));
        const order = fragments.map((_, k) => k);
        for (let k = order.length - 1, s = seed; k > 0; k--) {
          s = (s * 1103515245 + 12345) >>> 0;
          const j = s % (k + 1);
          [order[k], order[j]] = [order[j], order[k]];
        }
        order.forEach((k, n) => {
          expect(slot.add(fragments[k])).toBe(n === order.length - 1 ? DATAGRAM_REASSEMBLED : FRAGMENT_HELD);
        });
        const whole = slot.whole();
        expect(Buffer.from(whole).equals(Buffer.from(original))).toBe(true);
        const h = new Ipv4Header();
        expect(parseIpv4(whole, 0, whole.length, h)).toBe(WireStatus.Ok);
        expect(h.moreFragments || h.fragmentOffset !== 0).toBe(false);
        expect(h.dontFragment).toBe(true);
        expect(drops.total()).toBe(0);
        expect(r.reassembled).toBe(1);
        expect([r.fragments, r.fragmentsReassembled, r.heldFragments]).toEqual([fragments.length, fragments.length, 0]);
      },
    ), { numRuns: 200 });
  });

  it('keeps datagrams apart by source, destination, protocol and identification', () => {
    const { drops, r, slot } = setup();
    // The same identification and length, differing in one key field each (RFC 791 §3.2).
    const base = datagram(100, 7);
    const variants = [base, variant(base, 15, 3), variant(base, 19, 9), variant(base, 9, 17), datagram(100, 8)];
    const pieces = variants.map((v) => fragmentIpv4(v, evenCuts(100, 48)));
    for (const k of [0, 1]) for (const p of pieces) expect(slot.add(p[k])).toBe(FRAGMENT_HELD);
    expect(r.heldFragments).toBe(2 * variants.length);
    pieces.forEach((p, n) => {
      expect(slot.add(p[2])).toBe(DATAGRAM_REASSEMBLED);
      expect(slot.whole()).toEqual(variants[n]);
    });
    expect(drops.total()).toBe(0);
  });

  it('discards the whole datagram on an overlapping fragment, or on two different ends (RFC 5722 §4)', () => {
    const cases: FragmentCut[][] = [
      [{ start: 0, end: 64, more: true }, { start: 56, end: 100, more: false }],
      [{ start: 8, end: 64, more: true }, { start: 0, end: 16, more: true }],
      [{ start: 0, end: 32, more: true }, { start: 64, end: 96, more: false }, { start: 96, end: 104, more: false }],
      // A "last" fragment ending before data already held.
      [{ start: 64, end: 128, more: true }, { start: 0, end: 64, more: false }],
      // Data past the end a last fragment set.
      [{ start: 64, end: 100, more: false }, { start: 104, end: 112, more: true }],
    ];
    for (const cuts of cases) {
      const { drops, r, slot } = setup();
      const original = datagram(200);
      const fragments = fragmentIpv4(original, cuts);
      for (let k = 0; k < fragments.length - 1; k++) expect(slot.add(fragments[k])).toBe(FRAGMENT_HELD);
      expect(slot.add(fragments[fragments.length - 1])).toBe(DropReason.FragmentOverlap);
      // The fragments held before count here; the one in hand is the caller's to count.
      expect(drops.snapshot()).toEqual({ 'fragment-overlap': fragments.length - 1 });
      expect(r.heldFragments).toBe(0);
      // The entry is free again: the same datagram sent cleanly completes.
      const clean = fragmentIpv4(original, evenCuts(200, 64));
      clean.forEach((f, k) => expect(slot.add(f)).toBe(k === clean.length - 1 ? DATAGRAM_REASSEMBLED : FRAGMENT_HELD));
      expect(slot.whole()).toEqual(original);
    }
  });

  it('drops only a duplicate, a fragment inside one it holds, and completes the datagram (RFC 5722 erratum 3089)', () => {
    const cases: FragmentCut[][] = [
      [{ start: 0, end: 64, more: true }, { start: 0, end: 64, more: true }, { start: 64, end: 100, more: false }],
      [{ start: 64, end: 100, more: false }, { start: 64, end: 96, more: false }, { start: 0, end: 64, more: true }],
    ];
    for (const cuts of cases) {
      const { drops, r, slot } = setup();
      const original = datagram(100);
      const fragments = fragmentIpv4(original, cuts);
      expect(slot.add(fragments[0])).toBe(FRAGMENT_HELD);
      expect(slot.add(fragments[1])).toBe(DropReason.FragmentDuplicate);
      expect(slot.add(fragments[2])).toBe(DATAGRAM_REASSEMBLED);
      expect(slot.whole()).toEqual(original);
      expect(drops.total()).toBe(0);
      expect([r.fragments, r.fragmentsReassembled, r.heldFragments]).toEqual([3, 2, 0]);
    }
  });

  it('refuses an empty fragment, or one but the last whose payload is not a multiple of 8 bytes', () => {
    const { r, slot } = setup();
    const [odd] = fragmentIpv4(datagram(100), [{ start: 0, end: 60, more: true }]);
    expect(slot.add(odd)).toBe(DropReason.Malformed);
    const [empty] = fragmentIpv4(datagram(100), [{ start: 8, end: 8, more: false }]);
    expect(slot.add(empty)).toBe(DropReason.Malformed);
    expect(r.heldFragments).toBe(0);
  });

  it('gives up on a datagram after the timeout, counting what it held under fragment-timeout', () => {
    const { drops, r, slot } = setup();
    const fragments = fragmentIpv4(datagram(200), evenCuts(200, 64));
    expect(slot.add(fragments[0], 1000)).toBe(FRAGMENT_HELD);
    expect(slot.add(fragments[1], 1000)).toBe(FRAGMENT_HELD);
    r.age(1000 + REASSEMBLY_TIMEOUT_MS - 1);
    expect(r.heldFragments).toBe(2);
    r.age(1000 + REASSEMBLY_TIMEOUT_MS);
    expect(r.heldFragments).toBe(0);
    expect(drops.snapshot()).toEqual({ 'fragment-timeout': 2 });
    // A late fragment of an expired datagram starts afresh, even before age() ran.
    expect(slot.add(fragments[0], 2000)).toBe(FRAGMENT_HELD);
    expect(slot.add(fragments[1], 2000 + REASSEMBLY_TIMEOUT_MS)).toBe(FRAGMENT_HELD);
    expect(drops.snapshot()).toEqual({ 'fragment-timeout': 3 });
    expect(r.heldFragments).toBe(1);
  });

  it('makes room by giving up the oldest datagram when the table is full (fragment-table-full)', () => {
    const { drops, r, slot } = setup({ datagrams: 2 });
    const first = (id: number) => fragmentIpv4(datagram(100, id), evenCuts(100, 48));
    expect(slot.add(first(1)[0], 10)).toBe(FRAGMENT_HELD);
    expect(slot.add(first(2)[0], 20)).toBe(FRAGMENT_HELD);
    expect(slot.add(first(3)[0], 30)).toBe(FRAGMENT_HELD);
    expect(drops.snapshot()).toEqual({ 'fragment-table-full': 1 });
    expect(r.heldFragments).toBe(2);
    // Datagram 2 survived and completes.
    expect(slot.add(first(2)[1], 40)).toBe(FRAGMENT_HELD);
    expect(slot.add(first(2)[2], 40)).toBe(DATAGRAM_REASSEMBLED);
    // A fragment refused on sight (ending past any datagram it keeps) evicts nothing.
    expect(slot.add(first(4)[0], 50)).toBe(FRAGMENT_HELD);
    const far = fragmentIpv4(datagram(4000, 5), [{ start: 3000, end: 3200, more: true }]);
    expect(slot.add(far[0], 60)).toBe(DropReason.FragmentTooBig);
    expect(drops.snapshot()).toEqual({ 'fragment-table-full': 1 });
    expect(r.heldFragments).toBe(2);
    // The oldest goes wherever it sits: with 6 (from 70) in the first entry and 4 (from 50) in
    // the second, 7 takes the second.
    expect(slot.add(first(3)[1], 60)).toBe(FRAGMENT_HELD);
    expect(slot.add(first(3)[2], 60)).toBe(DATAGRAM_REASSEMBLED);
    expect(slot.add(first(6)[0], 70)).toBe(FRAGMENT_HELD);
    expect(slot.add(first(7)[0], 80)).toBe(FRAGMENT_HELD);
    expect(drops.snapshot()).toEqual({ 'fragment-table-full': 2 });
    expect(slot.add(first(6)[1], 90)).toBe(FRAGMENT_HELD);
    expect(slot.add(first(6)[2], 90)).toBe(DATAGRAM_REASSEMBLED);
  });

  it('explains every fragment of any sequence: fragments = reassembled into datagrams + held + dropped', () => {
    // Pieces of a few datagrams (identification 1-2, each in several lengths, so a key may meet a
    // different end), cut at different boundaries (overlaps), repeated, lost, late and interleaved.
    const piece = fc.record({
      id: fc.integer({ min: 1, max: 2 }),
      payload: fc.oneof({ arbitrary: fc.constant(1500), weight: 4 }, { arbitrary: fc.constantFrom(100, 2100), weight: 1 }),
      cut: fc.oneof({ arbitrary: fc.constant(520), weight: 4 }, { arbitrary: fc.constantFrom(8, 64), weight: 1 }),
      shift: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constant(1), weight: 1 }),
      index: fc.nat({ max: 2 }),
      later: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 100 }), weight: 20 }, { arbitrary: fc.constant(REASSEMBLY_TIMEOUT_MS), weight: 1 }),
    });
    let multiFragment = 0;
    fc.assert(fc.property(fc.array(piece, { maxLength: 80 }), (sequence) => {
      const { drops, r, slot } = setup({ datagrams: 2 });
      let refused = 0;
      let now = 0;
      for (const p of sequence) {
        now += p.later;
        // A shifted cut starts 8 bytes early: the same datagram cut differently overlaps.
        const cuts = evenCuts(p.payload, p.cut).map((c) => ({ ...c, start: Math.max(0, c.start - 8 * p.shift) }));
        const fragments = fragmentIpv4(datagram(p.payload, p.id), cuts);
        const folded = r.fragmentsReassembled;
        const result = slot.add(fragments[p.index % fragments.length], now);
        if (result >= 0) refused++;
        if (result === DATAGRAM_REASSEMBLED) {
          // Whatever pieces completed it, the bytes at each offset are the datagram's.
          const whole = slot.whole();
          expect(whole).toEqual(datagram(whole.length - 20, p.id));
          if (r.fragmentsReassembled - folded > 1) multiFragment++;
        }
        r.age(now);
      }
      expect(r.fragments).toBe(r.fragmentsReassembled + r.heldFragments + drops.total() + refused);
    }), { numRuns: 300 });
    expect(multiFragment).toBeGreaterThan(0);
  });

  it('needs room for at least one datagram', () => {
    expect(() => new Ipv4Reassembly(new DropCounters(), { datagrams: 0 })).toThrow(/datagrams must be an integer of at least 1, got 0/);
  });

  it('refuses datagrams longer than its buffer or than the frame slot, and more fragments than it keeps (fragment-too-big)', () => {
    {
      // 600 bytes hold a 580-byte payload behind a 20-byte header, not 588.
      const { drops, slot } = setup({ datagramBytes: 600 });
      const fits = fragmentIpv4(datagram(580, 1), evenCuts(580, 296));
      expect(slot.add(fits[0])).toBe(FRAGMENT_HELD);
      expect(slot.add(fits[1])).toBe(DATAGRAM_REASSEMBLED);
      const over = fragmentIpv4(datagram(588, 2), evenCuts(588, 296));
      expect(slot.add(over[0])).toBe(FRAGMENT_HELD);
      expect(slot.add(over[1])).toBe(DropReason.FragmentTooBig);
      expect(drops.snapshot()).toEqual({ 'fragment-too-big': 1 });
    }
    {
      const { drops, slot } = setup({ datagramBytes: 600 });
      const fragments = fragmentIpv4(datagram(800), evenCuts(800, 400));
      expect(slot.add(fragments[0])).toBe(FRAGMENT_HELD);
      expect(slot.add(fragments[1])).toBe(DropReason.FragmentTooBig);
      expect(drops.snapshot()).toEqual({ 'fragment-too-big': 1 });
    }
    {
      const drops = new DropCounters();
      const r = new Ipv4Reassembly(drops);
      const small = new Slot(r, 500);
      const fragments = fragmentIpv4(datagram(800), evenCuts(800, 400));
      expect(small.add(fragments[0])).toBe(FRAGMENT_HELD);
      expect(small.add(fragments[1])).toBe(DropReason.FragmentTooBig);
      expect(drops.snapshot()).toEqual({ 'fragment-too-big': 1 });
      expect(r.heldFragments).toBe(0);
    }
    {
      const { drops, slot } = setup();
      const fragments = fragmentIpv4(datagram(8 * (MAX_FRAGMENTS_PER_DATAGRAM + 1)), evenCuts(8 * (MAX_FRAGMENTS_PER_DATAGRAM + 1), 8));
      for (let k = 0; k < MAX_FRAGMENTS_PER_DATAGRAM; k++) expect(slot.add(fragments[k])).toBe(FRAGMENT_HELD);
      expect(slot.add(fragments[MAX_FRAGMENTS_PER_DATAGRAM])).toBe(DropReason.FragmentTooBig);
      expect(drops.snapshot()).toEqual({ 'fragment-too-big': MAX_FRAGMENTS_PER_DATAGRAM });
    }
  });
});
