/**
 * Token bucket rate limiter (the method RFC 4443 §2.4(f) recommends for ICMPv6 errors): `burst`
 * messages at once, refilled at `perSecond`. Time is the data plane's clock in milliseconds.
 */
export class TokenBucket {
  private tokens: number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(readonly perSecond: number, readonly burst: number) {
    this.tokens = burst;
  }

  /** Takes one token; false when the bucket is empty (the message must not be sent). */
  take(now: number): boolean {
    if (now > this.last) {
      if (this.last !== Number.NEGATIVE_INFINITY) {
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
      }
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
