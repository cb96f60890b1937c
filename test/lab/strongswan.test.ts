import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, inNamespace } from '../../src/lab/command.js';
import { buildLabTopology, destroyLabTopology, LAB_ADDRESSES, type LabTopology } from '../../src/lab/topology.js';
import { startStrongSwanGateways, StrongSwanLabError, type StrongSwanGateways } from '../../src/lab/strongswan.js';

const PREFIX = 'rbt-sw-';

describe('strongSwan baseline gateways', () => {
  let topology: LabTopology;
  let gateways: StrongSwanGateways | undefined;

  beforeAll(async () => {
    topology = await buildLabTopology({ prefix: PREFIX, gateways: 'kernel' });
    gateways = await startStrongSwanGateways(topology);
  });
  afterAll(async () => {
    await gateways?.stop();
    await destroyLabTopology(PREFIX);
  });

  it('installs the IPv6-over-IPv4 tunnel-mode CHILD_SA between the two TEPs', async () => {
    const sas = await gateways!.listSas();
    expect(sas).toMatch(/ESTABLISHED/);
    expect(sas).toMatch(/local\s+'192\.0\.2\.1' @ 192\.0\.2\.1\[4500\]\s*\n\s*remote\s+'192\.0\.2\.2' @ 192\.0\.2\.2\[4500\]/);
    expect(sas).toMatch(/net6: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128/);
    expect(sas).toMatch(/local\s+2001:db8:a::\/64\s*\n\s*remote\s+2001:db8:b::\/64/);
  });

  it('carries ping6 from red-a to red-b through the tunnel', async () => {
    const { code, stdout } = await runCommand(
      inNamespace(topology.namespaces.redA, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '-w', '8', LAB_ADDRESSES.b.host6]),
      { allowFailure: true, timeoutMs: 12_000 },
    );
    expect(stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(code).toBe(0);
    // The packets really went through the SA: its inbound and outbound counters moved.
    const sas = await gateways!.listSas();
    expect(sas).toMatch(/\bin\s+[0-9a-f]{8},\s+[1-9]\d* bytes,\s+[1-9]\d* packets/);
    expect(sas).toMatch(/\bout\s+[0-9a-f]{8},\s+[1-9]\d* bytes,\s+[1-9]\d* packets/);
  });

  it('refuses a topology whose gateways have no kernel addresses', async () => {
    await expect(startStrongSwanGateways({ ...topology, gateways: 'appliance' })).rejects.toThrow(StrongSwanLabError);
  });
});
