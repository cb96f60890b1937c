/**
 * CPU crypto features, read from /proc/cpuinfo, and the ESP proposal order they imply.
 * x86: AES-NI (`aes`) with carry-less multiply (`pclmulqdq`) make AES-GCM fast.
 * arm64: the `aes` and `pmull` HWCAPs (ARMv8 Crypto Extensions) do the same; a Raspberry Pi 4
 * (Cortex-A72 in the BCM2711) has neither, a Pi 5 (Cortex-A76) has both. Without them
 * ChaCha20-Poly1305 (RFC 7634) is faster than constant-time software AES, so it goes first.
 */
import { readFileSync } from 'node:fs';
import type { AeadAlgorithm } from '../crypto/aead.js';

export interface CpuCryptoFeatures {
  arch: string;
  /** Hardware AES rounds (x86 `aes`, arm64 `aes`). */
  aes: boolean;
  /** Carry-less multiply for GHASH (x86 `pclmulqdq`, arm64 `pmull`). */
  clmul: boolean;
  /** Every crypto-relevant flag found, for display. */
  flags: string[];
}

const RELEVANT = new Set(['aes', 'pclmulqdq', 'vaes', 'vpclmulqdq', 'avx2', 'avx512f', 'pmull', 'sha1', 'sha2', 'sha3', 'sha512', 'asimd', 'neon']);

/** Parses the text of /proc/cpuinfo (first processor block suffices: flags are uniform). */
export function parseCpuInfo(cpuinfo: string, arch: string): CpuCryptoFeatures {
  const line = cpuinfo.split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
  const all = new Set(line.replace(/^[^:]*:/, '').trim().split(/\s+/).filter(Boolean));
  const clmul = arch === 'arm64' ? all.has('pmull') : all.has('pclmulqdq');
  return { arch, aes: all.has('aes'), clmul, flags: [...all].filter((f) => RELEVANT.has(f)).sort() };
}

export function detectCpuCryptoFeatures(): CpuCryptoFeatures {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // No /proc: report no acceleration, which only affects the preferred order.
  }
  return parseCpuInfo(text, process.arch);
}

/** ESP proposal order this board should prefer: the fastest first, then by key size. */
export function preferredEspProposals(features: CpuCryptoFeatures): AeadAlgorithm[] {
  return features.aes && features.clmul
    ? ['aes-gcm-16-128', 'aes-gcm-16-256', 'chacha20-poly1305']
    : ['chacha20-poly1305', 'aes-gcm-16-128', 'aes-gcm-16-256'];
}
