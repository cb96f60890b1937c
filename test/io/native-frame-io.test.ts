/**
 * Argument checks of the addon's NativeFramePort that run before any socket is opened (no root, no namespace):
 * integer arguments are integers, as in the AEAD functions (native/src/napi_args.c reads both), and rxRing is one
 * of its names.
 */
import { describe, expect, it } from 'vitest';
import { loadNativeFrameIo, type NativeFramePortOptions } from '../../src/io/native-frame-io.js';

/** An interface no test creates, so an argument check that let a call through would still not open anything. */
const ABSENT_IFNAME = 'rbio-none0';
const OPTIONS: NativeFramePortOptions = {
  netns: undefined, ringFrames: 16, ringFrameBytes: 2048, rxRing: 'v2', busyPoll: false, mark: 0,
};

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('NativeFramePort integer arguments', () => {
  const { NativeFramePort } = loadNativeFrameIo();

  it.each([1.5, Number.NaN, '16'])('rejects ringFrames %s with a TypeError naming it', (ringFrames) => {
    const err = thrown(() => new NativeFramePort(ABSENT_IFNAME, { ...OPTIONS, ringFrames: ringFrames as number }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('option ringFrames must be an integer from 1 to 4294967295');
  });

  it('rejects an integer out of range with a RangeError naming it', () => {
    const err = thrown(() => new NativeFramePort(ABSENT_IFNAME, { ...OPTIONS, ringFrameBytes: 0 }));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('option ringFrameBytes must be an integer from 1 to 4294967295');
  });

  it.each([-1, 2 ** 32])('rejects a mark of %s, beyond 32 bits, with a RangeError naming it', (mark) => {
    const err = thrown(() => new NativeFramePort(ABSENT_IFNAME, { ...OPTIONS, mark }));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('option mark must be an integer from 0 to 4294967295');
  });

  it('rejects a busyPoll that is not a boolean with a TypeError naming it', () => {
    const err = thrown(() => new NativeFramePort(ABSENT_IFNAME, { ...OPTIONS, busyPoll: 1 as unknown as boolean }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('option busyPoll must be a boolean');
  });

  it('rejects an rxRing that is not a string with a TypeError naming it', () => {
    const err = thrown(() => new NativeFramePort(ABSENT_IFNAME, { ...OPTIONS, rxRing: 3 as unknown as 'v3' }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe("option rxRing must be 'v2' or 'v3'");
  });

  it('rejects an rxRing of another name with a RangeError naming it', () => {
    const err = thrown(() => new NativeFramePort(ABSENT_IFNAME, { ...OPTIONS, rxRing: 'v1' as 'v2' }));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe("option rxRing must be 'v2' or 'v3', got 'v1'");
  });
});
