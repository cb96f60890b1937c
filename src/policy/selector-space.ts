/**
 * Regions of selector space as unions of boxes (one inclusive interval per dimension), for the
 * offline questions "is this region covered by those?" (SPD shadowing, PAD child-SA authorization).
 * Control plane only: it allocates.
 */

import { fullRange } from './address-text.js';
import { ANY_PROTOCOL, type TrafficSelector } from './selectors.js';

export interface Box {
  readonly family: 4 | 6;
  readonly lo: readonly bigint[];
  readonly hi: readonly bigint[];
}

/** Default bound on pieces while subtracting, so a pathological configuration cannot stall the console. */
export const DEFAULT_PIECE_LIMIT = 20_000;

/** Boxes over (local, remote, protocol, local port, remote port); family 0 gives one box per family. */
export function boxesOfSelector(sel: TrafficSelector): Box[] {
  const families: (4 | 6)[] = sel.family === 0 ? [4, 6] : [sel.family];
  const proto: [bigint, bigint] = sel.protocol === ANY_PROTOCOL ? [0n, 255n] : [BigInt(sel.protocol), BigInt(sel.protocol)];
  return families.map((family) => {
    const local = sel.local ?? fullRange(family);
    const remote = sel.remote ?? fullRange(family);
    return {
      family,
      lo: [local.lo, remote.lo, proto[0], BigInt(sel.localPort.lo), BigInt(sel.remotePort.lo)],
      hi: [local.hi, remote.hi, proto[1], BigInt(sel.localPort.hi), BigInt(sel.remotePort.hi)],
    };
  });
}

export function boxesIntersect(a: Box, b: Box): boolean {
  if (a.family !== b.family) return false;
  for (let d = 0; d < a.lo.length; d++) if (a.hi[d] < b.lo[d] || b.hi[d] < a.lo[d]) return false;
  return true;
}

/** a minus b as disjoint boxes (at most two per dimension). */
export function subtractBox(a: Box, b: Box): Box[] {
  if (!boxesIntersect(a, b)) return [a];
  const out: Box[] = [];
  const lo = a.lo.slice();
  const hi = a.hi.slice();
  for (let d = 0; d < lo.length; d++) {
    if (b.lo[d] > lo[d]) {
      const pieceHi = hi.slice();
      pieceHi[d] = b.lo[d] - 1n;
      out.push({ family: a.family, lo: lo.slice(), hi: pieceHi });
      lo[d] = b.lo[d];
    }
    if (b.hi[d] < hi[d]) {
      const pieceLo = lo.slice();
      pieceLo[d] = b.hi[d] + 1n;
      out.push({ family: a.family, lo: pieceLo, hi: hi.slice() });
      hi[d] = b.hi[d];
    }
  }
  return out;
}

/**
 * The part of `region` outside every cutter, or null when the piece count passed `limit`
 * (the answer is then unknown).
 */
export function uncoveredPart(region: readonly Box[], cutters: readonly Box[], limit = DEFAULT_PIECE_LIMIT): Box[] | null {
  let rest: Box[] = region.slice();
  for (const cutter of cutters) {
    const next: Box[] = [];
    for (const piece of rest) {
      for (const p of subtractBox(piece, cutter)) next.push(p);
      if (next.length > limit) return null;
    }
    rest = next;
    if (rest.length === 0) break;
  }
  return rest;
}
