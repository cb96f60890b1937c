/**
 * A per-flow cache of policy decisions (the SPD caches of RFC 4301 §4.4.1: a cache may exist,
 * but it must give the ordered list's answer). It memoizes decisions that are pure functions of
 * a packet's selectors and a context number (which decision, and for whom), over an SPD and peer
 * table that never change while the cache lives. The caller computes a decision on a miss and
 * stores it; a hit hands back the same two words. Direct-mapped: a colliding flow replaces the
 * entry, which costs a recomputation, never a wrong answer. Typed arrays only, no allocation.
 */
import type { PacketSelectors } from './packet-selectors.js';

/** Key words per entry: family, local[4], remote[4], protocol, localPort, remotePort, context. */
const KEY_WORDS = 13;

export const DEFAULT_FLOW_CACHE_ENTRIES = 4096;

export class FlowCacheCounters {
  hits = 0;
  misses = 0;
}

export class FlowCache {
  readonly counters = new FlowCacheCounters();
  /** The two decision words of each entry (meaning is the caller's). */
  readonly first: Int32Array;
  readonly second: Int32Array;
  private readonly keys: Int32Array;
  /** 1 when the entry holds a decision. */
  private readonly used: Uint8Array;
  private readonly mask: number;

  /** `entries`: a power of two from 16 to 2^20. */
  constructor(entries = DEFAULT_FLOW_CACHE_ENTRIES) {
    if (!Number.isInteger(entries) || entries < 16 || entries > 1 << 20 || (entries & (entries - 1)) !== 0) {
      throw new RangeError(`flow cache: entries must be a power of two from 16 to 1048576, got ${entries}`);
    }
    this.mask = entries - 1;
    this.keys = new Int32Array(entries * KEY_WORDS);
    this.first = new Int32Array(entries);
    this.second = new Int32Array(entries);
    this.used = new Uint8Array(entries);
  }

  /** The entry holding the decision for (`p`, `context`), or -1 (compute it, then `store`). */
  find(p: PacketSelectors, context: number): number {
    const e = this.slotOf(p, context);
    const k = e * KEY_WORDS;
    const keys = this.keys;
    if (
      this.used[e] === 1 && keys[k] === p.family &&
      keys[k + 1] === (p.local[0] | 0) && keys[k + 2] === (p.local[1] | 0) && keys[k + 3] === (p.local[2] | 0) && keys[k + 4] === (p.local[3] | 0) &&
      keys[k + 5] === (p.remote[0] | 0) && keys[k + 6] === (p.remote[1] | 0) && keys[k + 7] === (p.remote[2] | 0) && keys[k + 8] === (p.remote[3] | 0) &&
      keys[k + 9] === p.protocol && keys[k + 10] === p.localPort && keys[k + 11] === p.remotePort && keys[k + 12] === context
    ) {
      this.counters.hits++;
      return e;
    }
    this.counters.misses++;
    return -1;
  }

  /** Records the decision (`first`, `second`) for (`p`, `context`); returns its entry. Selectors of family 0 (unfilled) are never stored. */
  store(p: PacketSelectors, context: number, first: number, second: number): number {
    if (p.family === 0) return -1;
    const e = this.slotOf(p, context);
    const k = e * KEY_WORDS;
    const keys = this.keys;
    keys[k] = p.family;
    for (let w = 0; w < 4; w++) {
      keys[k + 1 + w] = p.local[w];
      keys[k + 5 + w] = p.remote[w];
    }
    keys[k + 9] = p.protocol;
    keys[k + 10] = p.localPort;
    keys[k + 11] = p.remotePort;
    keys[k + 12] = context;
    this.first[e] = first;
    this.second[e] = second;
    this.used[e] = 1;
    return e;
  }

  private slotOf(p: PacketSelectors, context: number): number {
    // Multiply-xor per key word, each folded so high bits reach the low ones the mask keeps,
    // then the murmur3 finalizer.
    let h = mix(0, context ^ (p.protocol << 8) ^ p.family);
    h = mix(h, p.local[0]);
    h = mix(h, p.local[1]);
    h = mix(h, p.local[2]);
    h = mix(h, p.local[3]);
    h = mix(h, p.remote[0]);
    h = mix(h, p.remote[1]);
    h = mix(h, p.remote[2]);
    h = mix(h, p.remote[3]);
    h = mix(h, (p.localPort << 16) ^ p.remotePort ^ (p.localPort >>> 16));
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }
}

function mix(h: number, word: number): number {
  h = Math.imul(h ^ word, 0x9e3779b1);
  return h ^ (h >>> 15);
}
