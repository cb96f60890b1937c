import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectCpuCryptoFeatures, parseCpuInfo, preferredEspProposals } from '../../src/platform/cpu-features.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/cpuinfo/${name}`, import.meta.url), 'utf8');

describe('CPU crypto features', () => {
  it('a Raspberry Pi 4 has no AES instructions, so ChaCha20-Poly1305 goes first', () => {
    const f = parseCpuInfo(fixture('raspberry-pi-4.txt'), 'arm64');
    expect(f.aes).toBe(false);
    expect(f.clmul).toBe(false);
    expect(preferredEspProposals(f)[0]).toBe('chacha20-poly1305');
  });

  it('a Raspberry Pi 5 has aes and pmull, so AES-GCM goes first', () => {
    const f = parseCpuInfo(fixture('raspberry-pi-5.txt'), 'arm64');
    expect(f).toMatchObject({ aes: true, clmul: true });
    expect(f.flags).toEqual(expect.arrayContaining(['aes', 'pmull', 'sha2']));
    expect(preferredEspProposals(f)[0]).toMatch(/^aes-gcm/);
  });

  it('x86 needs both AES-NI and PCLMULQDQ', () => {
    const text = fixture('x86-aesni.txt');
    expect(parseCpuInfo(text, 'x64')).toMatchObject({ aes: true, clmul: true });
    const noClmul = parseCpuInfo(text.replace(' pclmulqdq', ''), 'x64');
    expect(noClmul.clmul).toBe(false);
    expect(preferredEspProposals(noClmul)[0]).toBe('chacha20-poly1305');
  });

  it('every proposal list holds each algorithm once', () => {
    const order = preferredEspProposals(detectCpuCryptoFeatures());
    expect(new Set(order)).toEqual(new Set(['aes-gcm-16-128', 'aes-gcm-16-256', 'chacha20-poly1305']));
  });
});
