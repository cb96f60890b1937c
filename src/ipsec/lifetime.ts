/**
 * SA lifetime (RFC 4301 §4.4.2.1 "Lifetime of this SA"): soft and hard limits in bytes, packets
 * and seconds since install. Crossing a soft limit asks for a rekey once; crossing a hard limit
 * expires the SA, which then passes no more traffic. Time is passed in by the caller (one
 * monotonic `now` in milliseconds per batch), never read per packet.
 *
 * The traffic totals live in the SA's counters block; this class only compares them with the
 * limits and remembers which events already fired. A packet is refused only once the SA has
 * expired, so the packet that reaches a hard limit still passes (Linux XFRM semantics) and the
 * next one does not.
 */

/** Zero or absent means "no limit". */
export interface LifetimeLimits {
  bytes?: number;
  packets?: number;
  seconds?: number;
}

export interface LifetimeConfig {
  soft?: LifetimeLimits;
  hard?: LifetimeLimits;
}

/** Bit flags returned by `check` and `expireNow`: the events that fired just now, each at most once per SA. */
export const enum LifetimeEvent {
  None = 0,
  Rekey = 1,
  Expire = 2,
}

/** Thrown for a limit that is negative, not an integer, or a soft limit above its hard limit. */
export class LifetimeConfigError extends Error {
  override readonly name = 'LifetimeConfigError';
  /** The SA config field at fault, e.g. "lifetime.soft.packets". */
  constructor(readonly field: string, message: string) {
    super(`${field} ${message}`);
  }
}

export class Lifetime {
  /** True once the soft event was raised. */
  softRaised = false;
  /** True once a hard limit was reached: the SA must pass no more traffic. */
  expired = false;
  private readonly softBytes: number;
  private readonly softPackets: number;
  private readonly softDeadline: number;
  private readonly hardBytes: number;
  private readonly hardPackets: number;
  private readonly hardDeadline: number;

  /** `installedAt` is the install time in milliseconds on the same clock as every later `now`. */
  constructor(config: LifetimeConfig, readonly installedAt: number) {
    const soft = config.soft ?? {};
    const hard = config.hard ?? {};
    this.softBytes = checkLimit('soft', 'bytes', soft.bytes);
    this.softPackets = checkLimit('soft', 'packets', soft.packets);
    const softSeconds = checkLimit('soft', 'seconds', soft.seconds);
    this.hardBytes = checkLimit('hard', 'bytes', hard.bytes);
    this.hardPackets = checkLimit('hard', 'packets', hard.packets);
    const hardSeconds = checkLimit('hard', 'seconds', hard.seconds);
    checkOrder('bytes', this.softBytes, this.hardBytes);
    checkOrder('packets', this.softPackets, this.hardPackets);
    checkOrder('seconds', softSeconds, hardSeconds);
    this.softDeadline = installedAt + softSeconds * 1000;
    this.hardDeadline = installedAt + hardSeconds * 1000;
  }

  /**
   * Compares the SA's totals (protected packets and bytes so far) and `now` with the limits.
   * Returns the events that fired just now (LifetimeEvent bits); each fires once per SA.
   */
  check(packets: number, bytes: number, now: number): number {
    let events = LifetimeEvent.None;
    if (!this.softRaised && (bytes >= this.softBytes || packets >= this.softPackets || now >= this.softDeadline)) {
      this.softRaised = true;
      events |= LifetimeEvent.Rekey;
    }
    if (!this.expired && (bytes >= this.hardBytes || packets >= this.hardPackets || now >= this.hardDeadline)) {
      events |= this.expireNow();
    }
    return events;
  }

  /** Hard expiry for a reason outside the limits (sequence number space exhausted, RFC 4303 §3.3.3). */
  expireNow(): number {
    if (this.expired) return LifetimeEvent.None;
    this.expired = true;
    return LifetimeEvent.Expire;
  }
}

/** Validates one limit; 0 or absent becomes Infinity (no limit). */
function checkLimit(level: 'soft' | 'hard', kind: string, value: number | undefined): number {
  if (value === undefined || value === 0) return Infinity;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LifetimeConfigError(`lifetime.${level}.${kind}`, `must be a non-negative integer (0 = no limit), got ${String(value)}`);
  }
  return value;
}

function checkOrder(kind: string, soft: number, hard: number): void {
  if (soft > hard) {
    throw new LifetimeConfigError(`lifetime.soft.${kind}`,
      `(${soft}) exceeds lifetime.hard.${kind} (${hard}): lower the soft limit so the rekey comes first`);
  }
}
