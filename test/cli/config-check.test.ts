import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_CHECK_USAGE, runConfigCheck } from '../../src/cli/config-check.js';
import { runCaptured } from './cli-fixture.js';

const LAB_A = join(import.meta.dirname, '../../examples/lab-a.yaml');
const dir = mkdtempSync(join(tmpdir(), 'rb-config-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => runCaptured(runConfigCheck, args);

describe('redblack config check', () => {
  it('prints the summary and the warnings of a valid file, exit 0', () => {
    const { code, out, err } = run([LAB_A]);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toBe('ok: rb-a, 2 SPD entries, 1 peer, 2 manual SAs (lab only)');
    expect(out.slice(1)).toHaveLength(1);
    expect(out[1]).toMatch(new RegExp(`^${LAB_A}:\\d+: manualKeys: warning: manual keys are for tests and the lab only`));
  });

  it('prints every issue as FILE:LINE: path: message, exit 1', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'version: 1\nname: x\ninterfaces:\n  red: { name: red }\n  black: { name: black, mtu: 9 }\nspd: []\nmanualKeys: 3\n');
    const { code, out, err } = run([file]);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      `${file}:5: interfaces.black.mtu: 9 is not an MTU: use a whole number from 68 to 65535 (RFC 791 §3.1)`,
      `${file}:7: manualKeys: must be a list of manual SAs, each an object { policy, direction, spi, key, algorithm?, source?, destination? }`,
    ]);
  });

  it('reports a file it cannot read, exit 1', () => {
    const file = join(dir, 'missing.yaml');
    const { code, err } = run([file]);
    expect(code).toBe(1);
    expect(err).toEqual([`${file}: cannot read the file (ENOENT): check the path and its permissions`]);
  });

  it('prints the usage for anything but one file name, exit 2', () => {
    expect(run([])).toEqual({ code: 2, out: [], err: [CONFIG_CHECK_USAGE] });
    expect(run(['a.yaml', 'b.yaml']).code).toBe(2);
    expect(run(['--verbose']).code).toBe(2);
  });
});
