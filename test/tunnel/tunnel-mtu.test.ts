import { describe, expect, it } from 'vitest';
import { espWireLength, largestEspPayload } from '../../src/tunnel/tunnel-mtu.js';

describe('tunnel MTU', () => {
  it('1500-byte black MTU, ESP transport over 6in4: inner IPv6 MTU 1446, or 1438 with UDP encapsulation', () => {
    expect(largestEspPayload(1500, 20, false)).toBe(1446);
    expect(largestEspPayload(1500, 20, true)).toBe(1438);
  });

  it('the payload it returns fits and one more byte does not', () => {
    for (const mtu of [576, 1280, 1400, 1492, 1500, 9000]) {
      for (const outer of [20, 40]) {
        for (const udp of [false, true]) {
          const p = largestEspPayload(mtu, outer, udp);
          expect(espWireLength(p, outer, udp)).toBeLessThanOrEqual(mtu);
          expect(espWireLength(p + 1, outer, udp)).toBeGreaterThan(mtu);
        }
      }
    }
  });
});
