import { describe, expect, it } from 'vitest';
import { WireStatus } from '../../src/wire/status.js';

describe('WireStatus', () => {
  it('gives each status its own value', () => {
    const values = Object.values(WireStatus);
    expect(new Set(values).size).toBe(values.length);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(WireStatus)).toBe(true);
  });
});
