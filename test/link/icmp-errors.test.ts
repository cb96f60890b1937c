import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileLinkSettings, type LinkConfig } from '../../src/link/link-config.js';
import { IcmpErrorSender } from '../../src/link/icmp-errors.js';
import { LinkPort, LinkTransmitQueue } from '../../src/link/transmit-queue.js';
import { LINK_CONFIG, sentOn } from './link-fixture.js';

// Reference frames from scapy 2.5 (checksums by scapy).
/** Ether/IPv6/UDP header of a 1500-byte packet from 2001:db8:1::100; the payload is PATTERN. */
const BIG_FRAME_HEAD = '00005e00530100005e0053aa86dd6000000005b4114020010db800010000000000000000010020010db800020000000000000000000503e807d005b4bfb0';
/** Ether/IPv6/ICMPv6PacketTooBig(mtu=1400) header; the quote is the first 1232 bytes of the big packet. */
const PTB_HEAD = '00005e0053aa00005e00530186dd6000000004d83a4020010db800010000000000000000000120010db80001000000000000000001000200fb4f00000578';
const TIME_EXCEEDED_HEAD = '00005e0053aa00005e00530186dd6000000004d83a4020010db800010000000000000000000120010db80001000000000000000001000300ffc700000000';
/** Ether/IPv4(DF)/UDP header of a 1480-byte packet from 198.51.100.7; the payload is PATTERN. */
const BIG_FRAME4_HEAD = '00005e00530200005e0053cc0800450005c8424240003f118d9ec6336407cb00710903e807d005b4b5e5';
const FRAG_NEEDED = '00005e0053cc00005e0053020800450000380001000040018e88c0000201c63364070304303200000578450005c8424240003f118d9ec6336407cb00710903e807d005b4b5e5';
const FRAG_NEEDED_FROM_DESTINATION = '00005e0053cc00005e0053010800450000380001000040011480cb007109c63364070304acb00000050045000030000540004001d483c6336407cb0071090800434900010001';
const V6 = {
  icmpError: '00005e00530100005e0053aa86dd6000000000383a0120010db800010000000000000000010020010db8000200000000000000000005010330e100000000600000000008114020010db800020000000000000000000520010db8000100000000000000000100000100020008a361',
  echo: '00005e00530100005e0053aa86dd6000000000083a0120010db800010000000000000000010020010db80002000000000000000000058000234100010001',
  redirect: '00005e00530100005e0053aa86dd6000000000283a0120010db800010000000000000000010020010db80002000000000000000000058900bea60000000020010db800010000000000000000000220010db8000200000000000000000005',
  multicast: '3333000000fb00005e0053aa86dd600000000008110120010db8000100000000000000000100ff0e00000000000000000000000000fb14e914e90008a748',
  nonFirstFragment: '00005e00530100005e0053aa86dd6000000000182c0120010db800010000000000000000010020010db80002000000000000000000053a0000500000000701020102010201020102010201020102',
  firstFragment: '00005e00530100005e0053aa86dd6000000000182c0120010db800010000000000000000010020010db80002000000000000000000051100000100000007000100020010c16f7878787878787878',
  unspecifiedSource: '00005e00530100005e0053aa86dd60000000000811010000000000000000000000000000000020010db8000200000000000000000005000100020008d21b',
  udp: '00005e00530100005e0053aa86dd60000000000c110120010db800010000000000000000010020010db800020000000000000000000500010002000cde9261626364',
};
const UDP_TIME_EXCEEDED = '00005e0053aa00005e00530186dd60000000003c3a4020010db800010000000000000000000120010db800010000000000000000010003002f240000000060000000000c110120010db800010000000000000000010020010db800020000000000000000000500010002000cde9261626364';
const V4 = {
  noDf: '00005e00530200005e0053cc0800450000300001000040111478c6336407cb00710900010002001ce4b97878787878787878787878787878787878787878',
  icmpError: '00005e00530200005e0053cc080045000038000140004001d47fc6336407cb0071090b005e690000000078787878787878787878787878787878787878787878787878787878',
  broadcast: '00005e00530200005e0053cc0800450000300001400040114d82c6336407c00002ff00010002001c5dc47878787878787878787878787878787878787878',
  fragment: '00005e00530200005e0053cc080045000028000140644000d42cc6336407cb0071097878787878787878787878787878787878787878',
  echo: '00005e00530200005e0053cc080045000030000540004001d483c6336407cb00710908004349000100017878787878787878787878787878787878787878',
};

const PATTERN = Buffer.from(Array.from({ length: 1452 }, (_, i) => (i * 7) & 0xff));
const BIG_FRAME = Buffer.concat([Buffer.from(BIG_FRAME_HEAD, 'hex'), PATTERN]);
const BIG_FRAME4 = Buffer.concat([Buffer.from(BIG_FRAME4_HEAD, 'hex'), PATTERN]);

function setup(config: Partial<LinkConfig> = {}) {
  const transmit = new LinkTransmitQueue({ count: 32 });
  const errors = new IcmpErrorSender(compileLinkSettings({ ...LINK_CONFIG, ...config }), transmit);
  return { transmit, errors };
}

function rx(frame: Uint8Array | string): Uint8Array {
  const bytes = typeof frame === 'string' ? Buffer.from(frame, 'hex') : frame;
  const buffer = new Uint8Array(2048);
  buffer.set(bytes, 0);
  return buffer.subarray(0, bytes.length);
}

describe('IcmpErrorSender: ICMPv6 (RFC 4443)', () => {
  it('sends Packet Too Big with the MTU and as much of the packet as fits in 1280 bytes (§3.2)', () => {
    const { transmit, errors } = setup();
    const frame = rx(BIG_FRAME);
    expect(errors.packetTooBig(frame, 0, 14, 1500, 1400, 0)).toBe(true);
    const sent = sentOn(transmit, LinkPort.Red);
    expect(sent).toEqual([PTB_HEAD + BIG_FRAME.subarray(14, 14 + 1232).toString('hex')]);
    expect(sent[0].length / 2 - 14).toBe(1280);
    expect(errors.counters.packetTooBigSent).toBe(1);
  });

  it('sends Time Exceeded (code 0) from the router address to the sender (§3.3)', () => {
    const { transmit, errors } = setup();
    expect(errors.timeExceeded(rx(BIG_FRAME), 0, 14, 1500, 0)).toBe(true);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([TIME_EXCEEDED_HEAD + BIG_FRAME.subarray(14, 14 + 1232).toString('hex')]);
  });

  it('quotes a small packet whole', () => {
    const { transmit, errors } = setup();
    const frame = rx(V6.udp);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 0)).toBe(true);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([UDP_TIME_EXCEEDED]);
  });

  it('never answers an ICMPv6 error or a Redirect, but answers informational messages (§2.4(e.1), (e.2))', () => {
    const { transmit, errors } = setup();
    for (const hex of [V6.icmpError, V6.redirect]) {
      const frame = rx(hex);
      expect(errors.packetTooBig(frame, 0, 14, frame.length - 14, 1280, 0)).toBe(false);
      expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 0)).toBe(false);
    }
    expect(errors.counters.suppressed).toBe(4);
    const echo = rx(V6.echo);
    expect(errors.timeExceeded(echo, 0, 14, echo.length - 14, 0)).toBe(true);
    expect(transmit.redCount).toBe(1);
  });

  it('answers a multicast packet only with Packet Too Big (§2.4(e.3), (e.4))', () => {
    const { transmit, errors } = setup();
    const frame = rx(V6.multicast);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 0)).toBe(false);
    expect(errors.packetTooBig(frame, 0, 14, frame.length - 14, 1280, 0)).toBe(true);
    expect(transmit.redCount).toBe(1);
  });

  it('does not answer a unicast packet that arrived as link-layer multicast with Time Exceeded (§2.4(e.4))', () => {
    const { errors } = setup();
    const frame = rx(V6.udp);
    frame.set([0x33, 0x33, 0, 0, 0, 1], 0);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 0)).toBe(false);
  });

  it('does not answer a non-first fragment or an unspecified source, does answer a first fragment', () => {
    const { errors } = setup();
    for (const hex of [V6.nonFirstFragment, V6.unspecifiedSource]) {
      const frame = rx(hex);
      expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 0)).toBe(false);
    }
    const first = rx(V6.firstFragment);
    expect(errors.timeExceeded(first, 0, 14, first.length - 14, 0)).toBe(true);
  });

  it('rate limits with a token bucket shared by all errors (§2.4(f))', () => {
    const { transmit, errors } = setup({ icmpErrors: { perSecond: 10, burst: 3 } });
    const frame = rx(V6.udp);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(errors.timeExceeded(frame, 0, 14, frame.length - 14, 1000));
    expect(results).toEqual([true, true, true, false, false]);
    expect(errors.counters.rateLimited).toBe(2);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 1099)).toBe(false);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 1100)).toBe(true);
    const v4 = rx(V4.echo);
    expect(errors.fragmentationNeeded(LinkPort.Black, v4, 0, 14, v4.length - 14, 1280, 1100)).toBe(false);
    expect(transmit.redCount).toBe(4);
  });

  it('sends nothing with perSecond 0 once the burst is spent', () => {
    const { errors } = setup({ icmpErrors: { perSecond: 0, burst: 1 } });
    const frame = rx(V6.udp);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 0)).toBe(true);
    expect(errors.timeExceeded(frame, 0, 14, frame.length - 14, 3_600_000)).toBe(false);
  });
});

describe('IcmpErrorSender: ICMPv4 Fragmentation Needed (RFC 1191 §4, RFC 1812 §4.3.2.7)', () => {
  it('sends type 3 code 4 with the next-hop MTU from the TEP, quoting header + 8 bytes', () => {
    const { transmit, errors } = setup();
    const frame = rx(BIG_FRAME4);
    expect(errors.fragmentationNeeded(LinkPort.Black, frame, 0, 14, frame.length - 14, 1400, 0)).toBe(true);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([FRAG_NEEDED]);
  });

  it('uses the invoking destination as source when configured (transparent role), on the port given', () => {
    const { transmit, errors } = setup({ icmpErrors: { ipv4Source: 'invoking-destination' } });
    const frame = rx(V4.echo);
    expect(errors.fragmentationNeeded(LinkPort.Red, frame, 0, 14, frame.length - 14, 1280, 0)).toBe(true);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([FRAG_NEEDED_FROM_DESTINATION]);
  });

  it('is not sent without DF, about an ICMP error, a subnet broadcast or a non-first fragment', () => {
    const { transmit, errors } = setup();
    for (const hex of [V4.noDf, V4.icmpError, V4.broadcast, V4.fragment]) {
      const frame = rx(hex);
      expect(errors.fragmentationNeeded(LinkPort.Black, frame, 0, 14, frame.length - 14, 1280, 0)).toBe(false);
    }
    expect(errors.counters.suppressed).toBe(4);
    expect(transmit.blackCount).toBe(0);
  });

  it('is not sent about a frame to the Ethernet broadcast address', () => {
    const { errors } = setup();
    const frame = rx(V4.echo);
    frame.fill(0xff, 0, 6);
    expect(errors.fragmentationNeeded(LinkPort.Black, frame, 0, 14, frame.length - 14, 1280, 0)).toBe(false);
  });

  it('counts an invoking packet with a bad header checksum as malformed', () => {
    const { errors } = setup();
    const frame = rx(V4.echo);
    frame[14 + 10] ^= 0xff;
    expect(errors.fragmentationNeeded(LinkPort.Black, frame, 0, 14, frame.length - 14, 1280, 0)).toBe(false);
    expect(errors.counters.malformed).toBe(1);
  });
});

describe('IcmpErrorSender on arbitrary bytes', () => {
  it('never throws and never emits more than one frame per call', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), fc.nat({ max: 40 }), (bytes, ipStart) => {
        const { transmit, errors } = setup({ icmpErrors: { perSecond: 10_000, burst: 10_000 } });
        const frame = new Uint8Array(Math.max(bytes.length, 14));
        frame.set(bytes);
        const ipLength = Math.max(0, frame.length - ipStart);
        errors.packetTooBig(frame, 0, ipStart, ipLength, 1280, 0);
        errors.timeExceeded(frame, 0, ipStart, ipLength, 0);
        errors.fragmentationNeeded(LinkPort.Black, frame, 0, ipStart, ipLength, 1280, 0);
        expect(transmit.redCount + transmit.blackCount).toBeLessThanOrEqual(3);
      }),
      { numRuns: 500 },
    );
  });
});
