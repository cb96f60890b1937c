import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/platform/package-root.js';

// bin/redblack.js runs dist/: `npm test` builds before it runs the tests.
const cli = join(packageRoot(), 'bin', 'redblack.js');

describe('redblack info', () => {
  it('reports version, backend, CPU features and the ESP proposal order', () => {
    const report = JSON.parse(execFileSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8' }));
    expect(report.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(report.aeadBackend).toBe('native');
    expect(typeof report.cpu.aes).toBe('boolean');
    expect(new Set(report.espProposals)).toEqual(new Set(['aes-gcm-16-128', 'aes-gcm-16-256', 'chacha20-poly1305']));
    // Hardware AES with carry-less multiply puts AES-GCM first, otherwise ChaCha20-Poly1305.
    expect(report.espProposals[0].startsWith('aes-gcm')).toBe(report.cpu.aes && report.cpu.clmul);
    const text = execFileSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
    expect(text).toContain('AEAD backend:   native');
    expect(text).toContain('ESP proposals:');
  });

  it('falls back to the noble backend when told to, and says so', () => {
    const out = execFileSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8', env: { ...process.env, REDBLACK_AEAD: 'noble' } });
    expect(JSON.parse(out).aeadBackend).toBe('noble');
  });

  it('rejects unknown commands with usage and exit status 2', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain('usage: redblack');
  });
});
