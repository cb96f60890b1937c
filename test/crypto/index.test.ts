import { describe, expect, it } from 'vitest';
import { AeadError } from '../../src/crypto/aead.js';
import { AEAD_BACKEND_ENV, aeadBackendInUse, createAeadBackend, selectAeadBackend } from '../../src/crypto/index.js';

const MISSING = 'native addon not built (native/build/Release/redblack.node is missing): run npm install';

function capture() {
  const messages: string[] = [];
  return { messages, warn: (m: string) => void messages.push(m) };
}

describe('AEAD backend selection', () => {
  it('picks native when the addon loads, without a warning', () => {
    const { messages, warn } = capture();
    expect(createAeadBackend({ env: {}, warn }).name).toBe('native');
    expect(messages).toEqual([]);
  });

  it('falls back to noble with exactly one warning that says why and how to fix it', () => {
    const { messages, warn } = capture();
    const backend = createAeadBackend({ env: {}, warn, loadNative: () => MISSING });
    expect(backend.name).toBe('noble');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('run npm install');
    expect(messages[0]).toContain('@noble/ciphers');
  });

  it(`${AEAD_BACKEND_ENV}=noble forces noble even when the addon loads`, () => {
    const { messages, warn } = capture();
    expect(createAeadBackend({ env: { [AEAD_BACKEND_ENV]: 'noble' }, warn }).name).toBe('noble');
    expect(messages).toEqual([]);
  });

  it(`${AEAD_BACKEND_ENV}=native with a missing addon throws AeadError instead of falling back`, () => {
    const { messages, warn } = capture();
    const forced = () => createAeadBackend({ env: { [AEAD_BACKEND_ENV]: 'native' }, warn, loadNative: () => MISSING });
    expect(forced).toThrow(AeadError);
    expect(forced).toThrow(`${AEAD_BACKEND_ENV}=native but ${MISSING}`);
    expect(messages).toEqual([]);
  });

  it(`an unknown ${AEAD_BACKEND_ENV} value throws AeadError naming the accepted values`, () => {
    const unknown = () => createAeadBackend({ env: { [AEAD_BACKEND_ENV]: 'openssl' } });
    expect(unknown).toThrow(AeadError);
    expect(unknown).toThrow(/must be "native" or "noble", got "openssl"/);
  });

  it('the process-wide backend is chosen once and reported for `redblack info`', () => {
    expect(aeadBackendInUse()).toBeNull();
    const first = selectAeadBackend();
    expect(selectAeadBackend()).toBe(first);
    expect(aeadBackendInUse()).toBe(first.name);
  });
});
