/**
 * Loading the addon's frame I/O exports through the one shared loader (src/platform/native-addon.ts), with the
 * package root pointed at a scratch folder to see what an operator sees when the addon is missing or broken.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const mockRoot = vi.hoisted(() => ({ dir: '' }));
vi.mock('../../src/platform/package-root.js', () => ({ packageRoot: () => mockRoot.dir }));

const REAL_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADDON = join('native', 'build', 'Release', 'redblack.node');

/** Fresh module instances, so each test loads the addon anew. */
async function layers() {
  vi.resetModules();
  return {
    frameIo: await import('../../src/io/native-frame-io.js'),
    crypto: await import('../../src/crypto/native-backend.js'),
    FramePortError: (await import('../../src/io/frame-port-error.js')).FramePortError,
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('native addon loading for frame I/O', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'rbio-addon-'));
    mockRoot.dir = scratch;
  });
  afterEach(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('says the addon is not built and how to build it, to frame I/O and crypto alike', async () => {
    const { frameIo, crypto, FramePortError } = await layers();
    const err = thrown(() => frameIo.loadNativeFrameIo());
    expect(err).toBeInstanceOf(FramePortError);
    expect(err).toMatchObject({
      code: 'ADDON_MISSING',
      message: `native addon ${join(scratch, ADDON)} is not built: run 'npm run build:native'`,
    });
    expect(crypto.loadNativeAddon()).toBeNull();
    expect(crypto.nativeAddonProblem()).toBe((err as Error).message);
  });

  it('says a file that is not a loadable addon does not load', async () => {
    mkdirSync(join(scratch, 'native', 'build', 'Release'), { recursive: true });
    writeFileSync(join(scratch, ADDON), 'not a shared object');
    const { frameIo } = await layers();
    const err = thrown(() => frameIo.loadNativeFrameIo()) as Error & { code: string };
    expect(err.code).toBe('ADDON_MISSING');
    expect(err.message).toMatch(new RegExp(`^native addon ${join(scratch, ADDON)} does not load \\(.+\\): ` +
      `rebuild it with 'npm run build:native'$`));
  });

  it('says which layer an addon built before that layer lacks', async () => {
    vi.doMock('node:module', () => ({ createRequire: () => () => ({}) }));
    try {
      const { frameIo, crypto } = await layers();
      expect(thrown(() => frameIo.loadNativeFrameIo())).toMatchObject({
        code: 'ADDON_MISSING',
        message: `native addon ${ADDON} has no frame I/O: rebuild it with 'npm run build:native'`,
      });
      expect(crypto.loadNativeAddon()).toBeNull();
      expect(crypto.nativeAddonProblem()).toBe(
        `native addon ${ADDON} has no AEAD functions: rebuild it with 'npm run build:native'`);
    } finally {
      vi.doUnmock('node:module');
    }
  });

  it('gives frame I/O and crypto the same built addon', async () => {
    mockRoot.dir = REAL_ROOT;
    const { frameIo, crypto } = await layers();
    const io = frameIo.loadNativeFrameIo();
    expect(typeof io.NativeFramePort).toBe('function');
    expect(crypto.nativeAddonProblem()).toBeNull();
    expect(crypto.loadNativeAddon()).toBe(io);
  });
});
