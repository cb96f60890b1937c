import { describe, expect, it } from 'vitest';
import { WireStatus, wireStatusName } from '../../src/wire/status.js';

describe('wireStatusName', () => {
  it('names every status after its key, and each value once', () => {
    const entries = Object.entries(WireStatus);
    expect(new Set(entries.map(([, v]) => v)).size).toBe(entries.length);
    for (const [name, value] of entries) expect(wireStatusName(value)).toBe(name);
    expect(wireStatusName(WireStatus.Truncated)).toBe('Truncated');
  });

  it('names foreign values without throwing', () => {
    expect(wireStatusName(999)).toBe('Unknown(999)');
    expect(wireStatusName(-1)).toBe('Unknown(-1)');
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(WireStatus)).toBe(true);
  });
});
