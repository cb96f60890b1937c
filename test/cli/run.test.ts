import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/platform/package-root.js';

// bin/redblack.js runs dist/: `npm test` builds before it runs the tests.
const cli = join(packageRoot(), 'bin', 'redblack.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('redblack run', () => {
  it('refuses an invalid configuration, naming file, line and field, and starts nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-run-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\nname: bad\ninterfaces:\n  red: { name: red }\n  black: { name: black }\nspd:\n  - { id: 1, name: x, action: maybe }\n');
    const r = run(['run', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:7: spd[0].action`);
  });

  it('says which interface is missing', () => {
    const r = run(['run', '--config', join(packageRoot(), 'examples', 'lab-a.yaml'), '--status-socket', join(mkdtempSync(join(tmpdir(), 'rb-run-')), 's.sock')]);
    expect(r.status).toBe(1);
    // The host namespace has no NIC called "red".
    expect(r.stderr).toMatch(/interface 'red'|"red"|red.*not found/i);
  });

  it('refuses a --crypto-thread that is neither on nor off', () => {
    const r = run(['run', '--config', join(packageRoot(), 'examples', 'lab-a.yaml'), '--crypto-thread', 'maybe']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--crypto-thread must be "on" or "off", got "maybe"');
  });

  it('refuses an --rx-ring other than v2 or v3', () => {
    const r = run(['run', '--config', join(packageRoot(), 'examples', 'lab-a.yaml'), '--rx-ring', 'v1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--rx-ring must be "v2" or "v3", got "v1"');
  });

  it('refuses a --host-stack other than isolated or shared', () => {
    const r = run(['run', '--config', join(packageRoot(), 'examples', 'lab-a.yaml'), '--host-stack', 'off']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--host-stack must be "isolated" or "shared", got "off"');
  });

  it('needs --config', () => {
    const r = run(['run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('run needs --config FILE');
  });
});
