/**
 * SA lifetime (RFC 4301 §4.4.2.1 "Lifetime of this SA"): soft and hard limits in bytes, packets
 * and seconds since install. Crossing a soft limit asks for a rekey once; crossing a hard limit
 * expires the SA, which then passes no more traffic. Time is passed in by the caller (one
 * monotonic `now` in milliseconds per batch), never read per packet.
 *
 * The traffic totals live in the SA's counters block; this class compares them with the limits
 * and remembers which events already fired. So that the per-packet path makes no call, it
 * publishes the next packet and byte totals worth a check (`nextPackets`, `nextBytes`). A packet
 * is refused only once the SA has expired, so the packet that reaches a hard limit still passes
 * (Linux XFRM semantics) and the next one does not.
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

/** Bit flags returned by the checks and `expireNow`: the events that fired just now, each at most once per SA. */
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
  /** Packet and byte totals at which `checkTraffic` may fire next (Infinity: never). */
  nextPackets: number;
  nextBytes: number;
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
    this.nextPackets = Infinity;
    this.nextBytes = Infinity;
    this.publishThresholds();
  }

  /** Compares the SA's traffic totals (protected packets and bytes so far) with the limits. */
  checkTraffic(packets: number, bytes: number): number {
    return this.fire(bytes >= this.softBytes || packets >= this.softPackets,
      bytes >= this.hardBytes || packets >= this.hardPackets);
  }

  /** Compares the time `now` (ms) with the limits counted from install. */
  checkTime(now: number): number {
    return this.fire(now >= this.softDeadline, now >= this.hardDeadline);
  }

  /** Hard expiry for a reason outside the limits (sequence number space exhausted, RFC 4303 §3.3.3). */
  expireNow(): number {
    return this.fire(false, true);
  }

  private publishThresholds(): void {
    this.nextPackets = this.expired ? Infinity : Math.min(this.softRaised ? Infinity : this.softPackets, this.hardPackets);
    this.nextBytes = this.expired ? Infinity : Math.min(this.softRaised ? Infinity : this.softBytes, this.hardBytes);
  }

  /** Raises each event once and moves the published thresholds to the next limit not yet reached. */
  private fire(soft: boolean, hard: boolean): number {
    let events = LifetimeEvent.None;
    if (soft && !this.softRaised) {
      this.softRaised = true;
      events |= LifetimeEvent.Rekey;
    }
    if (hard && !this.expired) {
      this.expired = true;
      events |= LifetimeEvent.Expire;
    }
    this.publishThresholds();
    return events;
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

/** A soft limit must come before its hard limit; either may be absent (Infinity). */
function checkOrder(kind: string, soft: number, hard: number): void {
  if (soft > hard && soft !== Infinity) {
    throw new LifetimeConfigError(`lifetime.soft.${kind}`,
      `(${soft}) exceeds lifetime.hard.${kind} (${hard}): lower the soft limit so the rekey comes first`);
  }
}
