import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from '../../src/dataplane/drop-reason.js';
import { compileLinkSettings } from '../../src/link/link-config.js';
import { LinkServices } from '../../src/link/link-services.js';
import { LinkPort } from '../../src/link/transmit-queue.js';
import { inReceiveSlot, LINK_CONFIG, sentOn } from './link-fixture.js';

// Reference frames from scapy 2.5 (Ether()/IPv6()/ICMPv6EchoRequest() and the matching ICMPv6EchoReply()).
const ECHO_REQUEST = '00005e00530100005e0053aa86dd6000000000113a4020010db800010000000000000000010020010db80001000000000000000000018000425a1234000770696e672d64617461';
const ECHO_REPLY = '00005e0053aa00005e00530186dd6000000000113a4020010db800010000000000000000000120010db80001000000000000000001008100415a1234000770696e672d64617461';
const ECHO_LINK_LOCAL = '00005e00530100005e0053aa86dd60000000006c3a40fe8000000000000002005efffe0053aafe8000000000000002005efffe005301800096200001000278787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878';
const ECHO_LINK_LOCAL_REPLY = '00005e0053aa00005e00530186dd60000000006c3a40fe8000000000000002005efffe005301fe8000000000000002005efffe0053aa810095200001000278787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878';
const ECHO_ALL_NODES = '33330000000100005e0053aa86dd6000000000083a40fe8000000000000002005efffe0053aaff0200000000000000000000000000018000cf8a00010002';
const ECHO_OTHER = '00005e00530100005e0053aa86dd6000000000083a40fe8000000000000002005efffe0053aa20010db80001000000000000000000778000a05d00010002';

function setup() {
  const services = new LinkServices(compileLinkSettings(LINK_CONFIG), new DropCounters(), { transmitFrames: 4 });
  return { services, transmit: services.transmit, echo: services.echo };
}

function feed(services: LinkServices, hex: string): number {
  return services.receiveRed(...inReceiveSlot(hex), 0);
}

describe('EchoResponder (RFC 4443 §4.2)', () => {
  it('answers an Echo Request to the router address with its identifier, sequence and data', () => {
    const { services, echo } = setup();
    expect(feed(services, ECHO_REQUEST)).toBe(-1);
    expect(sentOn(services.transmit, LinkPort.Red)).toEqual([ECHO_REPLY]);
    expect(echo.counters.repliesSent).toBe(1);
  });

  it('answers an Echo Request to the link-local address from that address', () => {
    const { services } = setup();
    expect(feed(services, ECHO_LINK_LOCAL)).toBe(-1);
    expect(sentOn(services.transmit, LinkPort.Red)).toEqual([ECHO_LINK_LOCAL_REPLY]);
  });

  it('does not answer an Echo Request to all-nodes', () => {
    const { services, transmit, echo } = setup();
    expect(feed(services, ECHO_ALL_NODES)).toBe(DropReason.Unsupported);
    expect(transmit.redCount).toBe(0);
    expect(echo.counters.ignored).toBe(1);
  });

  it('does not answer an Echo Request to another address', () => {
    const { services, transmit } = setup();
    expect(feed(services, ECHO_OTHER)).toBe(DropReason.Unsupported);
    expect(transmit.redCount).toBe(0);
    expect(services.counters.notForUs).toBe(1);
  });

  it('drops an Echo Request whose data was corrupted (checksum)', () => {
    const { services, transmit } = setup();
    const corrupt = ECHO_REQUEST.slice(0, -2) + '00';
    expect(feed(services, corrupt)).toBe(DropReason.Malformed);
    expect(transmit.redCount).toBe(0);
  });
});
