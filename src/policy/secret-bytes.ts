/**
 * Secret bytes (pre-shared keys) that never print: toString, JSON and util.inspect show only
 * "[redacted]". The holder reads them with reveal() and wipes them with zeroize() when the
 * configuration that owns them is retired.
 */

import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

export class SecretBytes {
  readonly #bytes: Uint8Array;
  #zeroized = false;

  /** Copies `bytes`; the caller should wipe its own copy. */
  constructor(bytes: Uint8Array) {
    this.#bytes = Uint8Array.from(bytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  get zeroized(): boolean {
    return this.#zeroized;
  }

  /** The live bytes (not a copy): use them at once and do not keep the reference. */
  reveal(): Uint8Array {
    return this.#bytes;
  }

  zeroize(): void {
    this.#bytes.fill(0);
    this.#zeroized = true;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
