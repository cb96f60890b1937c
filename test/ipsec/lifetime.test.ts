import { describe, expect, it } from 'vitest';
import { Lifetime, LifetimeConfigError, LifetimeEvent } from '../../src/ipsec/lifetime.js';

/** Feeds packets of `size` bytes one per `stepMs` and records at which packet each event fired. */
function drive(lifetime: Lifetime, count: number, size: number, stepMs: number) {
  const fired: { packet: number; events: number }[] = [];
  let bytes = 0;
  for (let p = 1; p <= count && !lifetime.expired; p++) {
    bytes += size;
    const events = lifetime.checkTraffic(p, bytes) | lifetime.checkTime(lifetime.installedAt + p * stepMs);
    if (events) fired.push({ packet: p, events });
  }
  return fired;
}

describe('Lifetime (RFC 4301 §4.4.2.1)', () => {
  it('fires rekey then expire once each, by packets', () => {
    const lt = new Lifetime({ soft: { packets: 10 }, hard: { packets: 15 } }, 0);
    expect(drive(lt, 100, 100, 0)).toEqual([
      { packet: 10, events: LifetimeEvent.Rekey },
      { packet: 15, events: LifetimeEvent.Expire },
    ]);
    expect(lt.expired).toBe(true);
    expect(lt.checkTraffic(16, 1600)).toBe(LifetimeEvent.None);
  });

  it('fires by bytes when a packet reaches or crosses the limit', () => {
    const lt = new Lifetime({ soft: { bytes: 1000 }, hard: { bytes: 2050 } }, 0);
    expect(drive(lt, 100, 100, 0)).toEqual([
      { packet: 10, events: LifetimeEvent.Rekey },
      { packet: 21, events: LifetimeEvent.Expire },
    ]);
  });

  it('fires by time since install, with no traffic counted', () => {
    const lt = new Lifetime({ soft: { seconds: 30 }, hard: { seconds: 60 } }, 5_000);
    expect(lt.checkTime(34_999)).toBe(LifetimeEvent.None);
    expect(lt.checkTime(35_000)).toBe(LifetimeEvent.Rekey);
    expect(lt.checkTime(40_000)).toBe(LifetimeEvent.None);
    expect(lt.checkTime(65_000)).toBe(LifetimeEvent.Expire);
    expect(lt.checkTime(99_000)).toBe(LifetimeEvent.None);
  });

  it('raises both events at once when one step crosses both limits', () => {
    const lt = new Lifetime({ soft: { bytes: 100 }, hard: { bytes: 200 } }, 0);
    expect(lt.checkTraffic(1, 500)).toBe(LifetimeEvent.Rekey | LifetimeEvent.Expire);
  });

  it('never fires without limits; 0 means no limit', () => {
    const lt = new Lifetime({ soft: { bytes: 0 }, hard: {} }, 0);
    expect(lt.checkTraffic(2 ** 40, 2 ** 50) | lt.checkTime(1e12)).toBe(LifetimeEvent.None);
    expect([lt.nextPackets, lt.nextBytes]).toEqual([Infinity, Infinity]);
  });

  it('publishes the next totals worth a check: soft, then hard, then none', () => {
    const lt = new Lifetime({ soft: { packets: 10 }, hard: { packets: 20, bytes: 5000 } }, 0);
    expect([lt.nextPackets, lt.nextBytes]).toEqual([10, 5000]);
    lt.checkTraffic(10, 100);
    expect([lt.nextPackets, lt.nextBytes]).toEqual([20, 5000]);
    lt.checkTraffic(20, 200);
    expect([lt.nextPackets, lt.nextBytes]).toEqual([Infinity, Infinity]);
  });

  it('expireNow expires once (sequence number space used up)', () => {
    const lt = new Lifetime({}, 0);
    expect(lt.expireNow()).toBe(LifetimeEvent.Expire);
    expect(lt.expireNow()).toBe(LifetimeEvent.None);
    expect(lt.expired).toBe(true);
  });

  it('rejects bad limits and names the field', () => {
    expect(() => new Lifetime({ soft: { packets: 20 }, hard: { packets: 10 } }, 0)).toThrow(/lifetime\.soft\.packets/);
    expect(() => new Lifetime({ hard: { bytes: -1 } }, 0)).toThrow(/lifetime\.hard\.bytes/);
    expect(() => new Lifetime({ soft: { seconds: 1.5 } }, 0)).toThrow(LifetimeConfigError);
    expect(new Lifetime({ hard: { bytes: 10 } }, 0).nextBytes).toBe(10); // no soft limit is fine
    // RFC 4301 §4.4.2.1: the rekey must come before the end, so soft == hard is refused too.
    expect(() => new Lifetime({ soft: { packets: 10 }, hard: { packets: 10 } }, 0)).toThrow(/^lifetime\.soft\.packets: 10 must be below the hard limit of 10 packets/);
  });
});
