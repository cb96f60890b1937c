import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { REPLAY_WINDOW_MAX, REPLAY_WINDOW_MIN, ReplayWindow, ReplayWindowConfigError } from '../../src/ipsec/replay-window.js';

const TWO_32 = 2 ** 32;
const SEQ_REJECTED = -1;

/** `check` as one number: the inferred sequence number, or SEQ_REJECTED. */
function checkSeq(w: ReplayWindow, low: number): number {
  return w.check(low) ? w.checked : SEQ_REJECTED;
}

/** `update` with a full sequence number, split as the engine does (high half, int32 low half). */
function accept(w: ReplayWindow, seq: number): boolean {
  return w.update(Math.floor(seq / TWO_32), seq % TWO_32 | 0);
}

/**
 * Reference model of RFC 4303 §3.4.3: a set of every accepted number and the highest one.
 * For ESN it infers the full number as the one value congruent to the low 32 bits that lies in
 * [T - W + 1, T - W + 1 + 2^32) (RFC 4303 Appendix A: "the window or ahead of it").
 */
class ModelWindow {
  private readonly seen = new Set<number>();
  private top = 0;
  constructor(private readonly size: number, private readonly esn: boolean) {}

  infer(low: number): number {
    if (!this.esn) return low;
    const base = this.top - this.size + 1;
    const offset = (((low - base) % TWO_32) + TWO_32) % TWO_32;
    return base + offset;
  }

  check(low: number): number {
    const seq = this.infer(low);
    if (seq < 1) return SEQ_REJECTED;
    if (seq > this.top) return seq;
    if (seq <= this.top - this.size) return SEQ_REJECTED;
    return this.seen.has(seq) ? SEQ_REJECTED : seq;
  }

  accept(seq: number): void {
    this.seen.add(seq);
    if (seq > this.top) this.top = seq;
  }

  get highest(): number {
    return this.top;
  }
}

/** One step, relative to the current right edge so that runs exercise the window edges. */
type Step =
  | { kind: 'ahead'; delta: number }
  | { kind: 'behind'; delta: number }
  | { kind: 'edge'; delta: number }
  | { kind: 'far'; delta: number }
  | { kind: 'repeat'; back: number }
  | { kind: 'forged' };

function steps(size: number) {
  return fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('ahead' as const), delta: fc.integer({ min: 1, max: 3 * size }) }),
      fc.record({ kind: fc.constant('behind' as const), delta: fc.integer({ min: 0, max: 2 * size }) }),
      fc.record({ kind: fc.constant('edge' as const), delta: fc.integer({ min: -2, max: 2 }) }),
      fc.record({ kind: fc.constant('far' as const), delta: fc.integer({ min: 1, max: 0x7fff_ffff }) }),
      fc.record({ kind: fc.constant('repeat' as const), back: fc.nat(20) }),
      fc.record({ kind: fc.constant('forged' as const) }),
    ),
    { minLength: 1, maxLength: 300 },
  );
}

/** Full sequence number a step sends; the history lets 'repeat' replay an earlier packet. */
function seqFor(step: Step, top: number, size: number, history: number[]): number {
  switch (step.kind) {
    case 'ahead': return top + step.delta;
    case 'behind': return top - step.delta;
    case 'edge': return top - size + step.delta;
    case 'far': return top + step.delta;
    case 'repeat': return history.length ? history[Math.max(0, history.length - 1 - step.back)] : top;
    case 'forged': return top + 1;
  }
}

function runAgainstModel(size: number, esn: boolean, start: number, plan: Step[]): void {
  const window = new ReplayWindow(size, esn);
  const model = new ModelWindow(size, esn);
  const history: number[] = [];
  // March the right edge to `start` in steps the ESN inference can follow.
  for (let s = 0; s < start;) {
    s = Math.min(s + 0x7000_0000, start);
    expect(accept(window, checkSeq(window, s % TWO_32))).toBe(true);
    model.accept(s);
  }
  for (const step of plan) {
    const seq = seqFor(step, model.highest, size, history);
    if (seq < 0 || seq > Number.MAX_SAFE_INTEGER) continue;
    const low = seq % TWO_32;
    const got = checkSeq(window, low);
    expect(got).toBe(model.check(low));
    // A forged packet, or one whose high half was guessed wrong, fails the ICV: no update.
    if (got !== SEQ_REJECTED && got === seq && step.kind !== 'forged') {
      expect(accept(window, got)).toBe(true);
      model.accept(got);
      history.push(got);
    }
    expect(window.highest).toBe(model.highest);
  }
}

describe('ReplayWindow (RFC 4303 §3.4.3, RFC 6479)', () => {
  // 32 is the RFC 4303 §3.4.3 minimum; 100 fills no whole number of bitmap words.
  for (const size of [32, 64, 100, 1024, 4096]) {
    it(`matches the reference model, 32-bit sequence numbers, W=${size}`, () => {
      fc.assert(fc.property(steps(size), (plan) => runAgainstModel(size, false, 0, plan)), { numRuns: 150 });
    });

    it(`matches the reference model with ESN near a 2^32 boundary, W=${size}`, () => {
      const start = fc.oneof(fc.constant(0), fc.integer({ min: TWO_32 - 3 * size, max: TWO_32 + size }),
        fc.integer({ min: 5 * TWO_32 - 2 * size, max: 5 * TWO_32 }));
      fc.assert(fc.property(start, steps(size), (s, plan) => runAgainstModel(size, true, s, plan)), { numRuns: 150 });
    });
  }

  it('rejects sequence number 0 and accepts 1 first', () => {
    const w = new ReplayWindow(64);
    expect(checkSeq(w, 0)).toBe(SEQ_REJECTED);
    expect(checkSeq(w, 1)).toBe(1);
  });

  it('accepts exactly the last W numbers behind the edge, and each once', () => {
    const w = new ReplayWindow(64);
    expect(accept(w, checkSeq(w, 100))).toBe(true);
    expect(checkSeq(w, 37)).toBe(37); // 100 - 64 + 1: the left edge
    expect(checkSeq(w, 36)).toBe(SEQ_REJECTED);
    expect(accept(w, 37)).toBe(true);
    expect(checkSeq(w, 37)).toBe(SEQ_REJECTED);
    expect(checkSeq(w, 100)).toBe(SEQ_REJECTED);
  });

  it('check does not change the window; update re-checks duplicates opened in one batch', () => {
    const w = new ReplayWindow(64);
    expect(checkSeq(w, 5)).toBe(5);
    expect(checkSeq(w, 5)).toBe(5);
    expect(accept(w, 5)).toBe(true);
    expect(accept(w, 5)).toBe(false);
  });

  it('forgets everything on a jump larger than the bitmap', () => {
    const w = new ReplayWindow(64);
    for (let s = 1; s <= 64; s++) accept(w, s);
    expect(accept(w, 1_000_000)).toBe(true);
    expect(checkSeq(w, 1_000_000 - 63)).toBe(1_000_000 - 63);
    expect(checkSeq(w, 1_000_000 - 64)).toBe(SEQ_REJECTED);
  });

  it('infers the ESN high half across the wrap 0xffffffff -> 0 (RFC 4303 Appendix A2.2)', () => {
    const w = new ReplayWindow(1024, true);
    for (const s of [0x7000_0000, 0xffff_fff0]) expect(accept(w, checkSeq(w, s))).toBe(true);
    expect(checkSeq(w, 0xffff_ffff)).toBe(TWO_32 - 1);
    expect(accept(w, TWO_32 - 1)).toBe(true);
    expect(checkSeq(w, 0)).toBe(TWO_32); // low half wrapped: high half + 1, and low 0 is legal with ESN
    expect(accept(w, TWO_32)).toBe(true);
    expect(checkSeq(w, 5)).toBe(TWO_32 + 5);
    expect(accept(w, TWO_32 + 5)).toBe(true);
    // Case B: the window spans both subspaces; a late packet from the old one keeps high half 0.
    expect(checkSeq(w, 0xffff_fffe)).toBe(TWO_32 - 2);
    expect(checkSeq(w, 0xffff_fff0)).toBe(SEQ_REJECTED); // already seen
    expect(checkSeq(w, 0xffff_0000)).toBe(2 * TWO_32 - 0x1_0000); // outside the window: taken as ahead
  });

  it('without ESN, the low half never wraps into a new epoch', () => {
    const w = new ReplayWindow(64);
    expect(accept(w, 0xffff_ffff)).toBe(true);
    expect(checkSeq(w, 0)).toBe(SEQ_REJECTED);
    expect(checkSeq(w, 1)).toBe(SEQ_REJECTED);
  });

  it('refuses ESN numbers above 2^53 - 1', () => {
    const w = new ReplayWindow(64, true);
    expect(accept(w, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(accept(w, Number.MAX_SAFE_INTEGER + 1)).toBe(false);
    expect(checkSeq(w, 0)).toBe(SEQ_REJECTED); // would be 2^53
  });

  it('validates the size and names the field: 32 (RFC 4303 §3.4.3) to 4096, any whole number', () => {
    for (const bad of [REPLAY_WINDOW_MIN - 1, REPLAY_WINDOW_MAX + 1, 100.5]) {
      expect(() => new ReplayWindow(bad)).toThrow(ReplayWindowConfigError);
      expect(() => new ReplayWindow(bad)).toThrow(/^replayWindow: /);
    }
    for (const good of [32, 100, 4096]) expect(new ReplayWindow(good).size).toBe(good);
  });
});
