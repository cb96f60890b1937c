import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOST_STACK_RULES_USAGE, runHostStackRules } from '../../src/cli/host-stack-rules.js';
import { hostStackRuleset } from '../../src/io/host-stack-isolation.js';
import { removeNamespaces } from '../../src/lab/topology.js';
import { HAS_NFT } from '../io/nft-fixture.js';
import { runCaptured } from './cli-fixture.js';

const LAB_A = join(import.meta.dirname, '../../examples/lab-a.yaml');
const NS = 'rbcli-hsr';
const dir = mkdtempSync(join(tmpdir(), 'rb-host-stack-rules-'));
const isRoot = process.getuid?.() === 0;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (isRoot) await removeNamespaces([NS]);
});

const run = (args: string[]) => runCaptured(runHostStackRules, args);

describe('redblack config host-stack-rules', () => {
  it("prints the rules redblack run installs for the configuration's red and black NICs, exit 0", () => {
    const { code, out, err } = run([LAB_A]);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual([hostStackRuleset(['red', 'black']).trimEnd()]);
  });

  it.skipIf(!isRoot || !HAS_NFT)('prints a script nft installs as it stands (red and black in a namespace of their own)', async () => {
    await removeNamespaces([NS]);
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'add', 'red', 'type', 'veth', 'peer', 'name', 'black']);
    execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], { input: run([LAB_A]).out[0] + '\n' });
    const chains = execFileSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'chains'], { encoding: 'utf8' });
    expect(chains.match(/hook \w+ device "\w+"/g)).toEqual([
      'hook ingress device "red"', 'hook egress device "red"', 'hook ingress device "black"', 'hook egress device "black"',
    ]);
  });

  it('prints the configuration issues and nothing else for a bad file, exit 1', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'version: 1\nname: x\ninterfaces:\n  red: { name: red }\n  black: { name: red }\nspd: []\n');
    const { code, out, err } = run([file]);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([`${file}:5: interfaces.black.name: "red" is also the red interface: red and black must be different NICs`]);
  });

  it('refuses a NIC name nft could not quote, naming the file, exit 1', () => {
    const file = join(dir, 'quoted.yaml');
    writeFileSync(file, 'version: 1\nname: x\ninterfaces:\n  red: { name: \'r"d\' }\n  black: { name: black }\nspd: []\n');
    const { code, out, err } = run([file]);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([`${file}: interface "r"d" cannot be named in an nftables rule (use letters, digits and _ . @ + -): rename it, or run the appliance with --host-stack shared`]);
  });

  it('needs exactly one file, exit 2', () => {
    expect(run([])).toEqual({ code: 2, out: [], err: [HOST_STACK_RULES_USAGE] });
  });
});
