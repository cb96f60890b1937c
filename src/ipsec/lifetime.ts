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

import { quote } from '../policy/validation.js';

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

/** A limit the SA layer refuses: which one (`lifetime.<level>.<unit>` of the SA config) and why. */
export interface LifetimeProblem {
  readonly level: 'soft' | 'hard';
  readonly unit: keyof LifetimeLimits;
  readonly message: string;
}

const UNITS: readonly (keyof LifetimeLimits)[] = ['bytes', 'packets', 'seconds'];

/**
 * Every problem of a lifetime: the one rule for SA installs and the SPD. A limit is absent, 0 (no
 * limit) or a whole number. RFC 4301 §4.4.2.1: the soft lifetime warns so that a replacement SA is
 * set up before the hard lifetime ends this one, so a soft limit must lie below its hard limit
 * (equal would ask for the rekey as the SA dies).
 */
export function lifetimeProblems(config: LifetimeConfig): LifetimeProblem[] {
  const problems: LifetimeProblem[] = [];
  for (const unit of UNITS) {
    const soft = config.soft?.[unit];
    const hard = config.hard?.[unit];
    const softOk = isLifetimeLimit(soft);
    const hardOk = isLifetimeLimit(hard);
    if (!softOk) problems.push({ level: 'soft', unit, message: notALimit(soft) });
    if (!hardOk) problems.push({ level: 'hard', unit, message: notALimit(hard) });
    if (softOk && hardOk && hard !== undefined && hard > 0 && soft !== undefined && soft >= hard) {
      problems.push({ level: 'soft', unit, message: `${soft} must be below the hard limit of ${hard} ${unit} so the SA is rekeyed before it dies (RFC 4301 §4.4.2.1)` });
    }
  }
  return problems;
}

/** The SA config field a problem names, e.g. "lifetime.soft.packets". */
export function lifetimeField(problem: LifetimeProblem): string {
  return `lifetime.${problem.level}.${problem.unit}`;
}

/** A lifetime limit as written: absent, or a whole number from 0 (no limit). */
export function isLifetimeLimit(value: unknown): boolean {
  return value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0);
}

function notALimit(value: unknown): string {
  return `${quote(value)} is not a count: use a whole number, 0 for no limit`;
}

/** Thrown by the Lifetime constructor for a config `lifetimeProblems` refuses. */
export class LifetimeConfigError extends Error {
  override readonly name = 'LifetimeConfigError';
  /** The SA config field at fault, e.g. "lifetime.soft.packets". */
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
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
    const [problem] = lifetimeProblems(config);
    if (problem !== undefined) throw new LifetimeConfigError(lifetimeField(problem), problem.message);
    const soft = config.soft ?? {};
    const hard = config.hard ?? {};
    this.softBytes = limitOf(soft.bytes);
    this.softPackets = limitOf(soft.packets);
    const softSeconds = limitOf(soft.seconds);
    this.hardBytes = limitOf(hard.bytes);
    this.hardPackets = limitOf(hard.packets);
    const hardSeconds = limitOf(hard.seconds);
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

/** A validated limit, with 0 or absent as Infinity (no limit). */
function limitOf(value: number | undefined): number {
  return value === undefined || value === 0 ? Infinity : value;
}
