/**
 * Open-addressing hash table from a 32-bit SPI to a value, so that inbound SA lookup on the data
 * path neither allocates nor boxes u32 keys. Linear probing with tombstones; grows on insert only.
 */

const EMPTY = 0;
const USED = 1;
const DELETED = 2;

export class SpiIndex<T> {
  private keys = new Int32Array(16);
  private state = new Uint8Array(16);
  private values: (T | undefined)[] = new Array<T | undefined>(16);
  private used = 0;
  private deleted = 0;

  get size(): number {
    return this.used;
  }

  /** The value stored for `spi`, or null. */
  get(spi: number): T | null {
    const key = spi | 0;
    const mask = this.keys.length - 1;
    for (let i = hash(key) & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      const s = this.state[i];
      if (s === EMPTY) return null;
      if (s === USED && this.keys[i] === key) return this.values[i] as T;
    }
    return null;
  }

  /** Stores `value` for `spi`; returns false (and changes nothing) if `spi` is already present. */
  add(spi: number, value: T): boolean {
    if (this.get(spi) !== null) return false;
    if ((this.used + this.deleted + 1) * 2 > this.keys.length) this.rehash();
    const key = spi | 0;
    const mask = this.keys.length - 1;
    let i = hash(key) & mask;
    while (this.state[i] === USED) i = (i + 1) & mask;
    if (this.state[i] === DELETED) this.deleted--;
    this.keys[i] = key;
    this.state[i] = USED;
    this.values[i] = value;
    this.used++;
    return true;
  }

  /** Removes `spi`; returns whether it was present. */
  delete(spi: number): boolean {
    const key = spi | 0;
    const mask = this.keys.length - 1;
    for (let i = hash(key) & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
      const s = this.state[i];
      if (s === EMPTY) return false;
      if (s === USED && this.keys[i] === key) {
        this.state[i] = DELETED;
        this.values[i] = undefined;
        this.used--;
        this.deleted++;
        return true;
      }
    }
    return false;
  }

  private rehash(): void {
    const { keys, state, values } = this;
    let capacity = keys.length;
    while ((this.used + 1) * 4 > capacity) capacity *= 2;
    this.keys = new Int32Array(capacity);
    this.state = new Uint8Array(capacity);
    this.values = new Array<T | undefined>(capacity);
    this.used = 0;
    this.deleted = 0;
    for (let i = 0; i < keys.length; i++) {
      if (state[i] === USED) this.add(keys[i], values[i] as T);
    }
  }
}

/** Multiplicative (Fibonacci) hash: SPIs are random from IKE but small and sequential when keyed by hand. */
function hash(key: number): number {
  const h = Math.imul(key, 0x9e3779b1);
  return h ^ (h >>> 15);
}
