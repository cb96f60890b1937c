import { describe, expect, it } from 'vitest';
import { formatAddress, readAddressWords } from '../../src/policy/address-text.js';
import { Direction, PacketSelectorExtractor, PacketSelectors } from '../../src/policy/packet-selectors.js';
import { PORT_OPAQUE } from '../../src/policy/selectors.js';
import { SecurityPolicyDatabase } from '../../src/policy/spd.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

const extractor = new PacketSelectorExtractor();

/** Extracts and renders the selectors as text, for readable assertions. */
function view(bytes: Uint8Array, direction: Direction = Direction.Outbound, off = 0, len = bytes.length) {
  const p = new PacketSelectors();
  const status = extractor.extract(bytes, off, len, direction, p);
  if (status !== WireStatus.Ok) return { status };
  const family = p.family as 4 | 6;
  const port = (v: number) => (v === PORT_OPAQUE ? 'opaque' : v);
  return {
    status,
    local: formatAddress(family, readAddressWords(family, p.local, 0)),
    remote: formatAddress(family, readAddressWords(family, p.remote, 0)),
    protocol: p.protocol,
    localPort: port(p.localPort),
    remotePort: port(p.remotePort),
  };
}

describe('IPv4 extraction', () => {
  // scapy: IP(src="192.0.2.10", dst="198.51.100.20")/TCP(sport=40000, dport=443, flags="S")
  const tcp = hex('450000280001000040068e7dc000020ac63364149c4001bb00000000000000005002200005950000');

  it('outbound: local is the source; inbound: local is the destination', () => {
    expect(view(tcp, Direction.Outbound)).toEqual({ status: WireStatus.Ok, local: '192.0.2.10', remote: '198.51.100.20', protocol: 6, localPort: 40000, remotePort: 443 });
    expect(view(tcp, Direction.Inbound)).toEqual({ status: WireStatus.Ok, local: '198.51.100.20', remote: '192.0.2.10', protocol: 6, localPort: 443, remotePort: 40000 });
  });

  it('reads a packet at an offset inside a larger buffer (a frame slot)', () => {
    const slot = new Uint8Array(256).fill(0xee);
    slot.set(tcp, 100);
    expect(view(slot, Direction.Outbound, 100, tcp.length)).toMatchObject({ local: '192.0.2.10', remotePort: 443 });
  });

  it('ICMP carries type and code in the local port field', () => {
    // scapy: IP(src="192.0.2.10", dst="198.51.100.20")/ICMP(type=3, code=4)/(b"z"*28)
    const icmp = hex('450000380001000040018e72c000020ac633641403044a49000000007a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a');
    expect(view(icmp, Direction.Inbound)).toMatchObject({ protocol: 1, localPort: (3 << 8) | 4, remotePort: 'opaque' });
  });

  it('a first fragment shows ports; a non-initial fragment has OPAQUE ports and keeps its protocol', () => {
    // scapy: fragment(IP(src="192.0.2.10", dst="198.51.100.20", id=5)/UDP(sport=1234, dport=4242)/(b"y"*100), 48)
    const first = hex('450000440005200040116e52c000020ac633641404d21092006c43a679797979797979797979797979797979797979797979797979797979797979797979797979797979');
    const second = hex('450000440005200640116e4cc000020ac6336414797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979');
    expect(view(first)).toMatchObject({ protocol: 17, localPort: 1234, remotePort: 4242 });
    expect(view(second)).toMatchObject({ protocol: 17, localPort: 'opaque', remotePort: 'opaque' });
  });

  it('protocols without ports (ESP, 6in4) have OPAQUE ports', () => {
    // scapy: IP(src="198.51.100.2", dst="192.0.2.1")/ESP(spi=0x3003, seq=1, data=b"\xcc"*32)
    const esp = hex('4500003c0001000040328e58c6336402c00002010000300300000001cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc');
    expect(view(esp)).toMatchObject({ protocol: 50, localPort: 'opaque', remotePort: 'opaque' });
  });

  it('refuses packets it cannot classify, leaving the selectors unmatched', () => {
    const p = new PacketSelectors();
    const cut = tcp.slice(0, 22); // header says 40 bytes
    expect(extractor.extract(cut, 0, cut.length, Direction.Outbound, p)).toBe(WireStatus.Truncated);
    expect(p.family).toBe(0);
    const badChecksum = tcp.slice();
    badChecksum[10] ^= 0xff;
    expect(extractor.extract(badChecksum, 0, badChecksum.length, Direction.Outbound, p)).toBe(WireStatus.BadChecksum);
    const v5 = tcp.slice();
    v5[0] = 0x55;
    expect(extractor.extract(v5, 0, v5.length, Direction.Outbound, p)).toBe(WireStatus.BadVersion);
    expect(extractor.extract(tcp, 0, tcp.length + 1, Direction.Outbound, p)).toBe(WireStatus.BadRange);
  });

  it('refuses a whole (unfragmented) TCP packet too short to show its ports', () => {
    // scapy: IP(src="192.0.2.10", dst="198.51.100.20", proto=6)/b"\x9c" (one byte of TCP)
    const bytes = hex('450000150001000040068e90c000020ac63364149c');
    expect(view(bytes)).toEqual({ status: WireStatus.Truncated });
  });
});

describe('IPv6 extraction', () => {
  it('ICMPv6 type/code and UDP ports', () => {
    // scapy: IPv6(src="2001:db8:1::5", dst="2001:db8:2::2")/ICMPv6EchoRequest(id=1, seq=1)
    expect(view(hex('6000000000083a4020010db800010000000000000000000520010db80002000000000000000000028000243f00010001'))).toEqual({
      status: WireStatus.Ok,
      local: '2001:db8:1::5',
      remote: '2001:db8:2::2',
      protocol: 58,
      localPort: 128 << 8,
      remotePort: 'opaque',
    });
  });

  it('a first fragment shows ports; a non-initial fragment takes its protocol from the Fragment header', () => {
    // scapy: fragment6(IPv6(src="2001:db8:1::5", dst="2001:db8:2::2")/IPv6ExtHdrFragment(id=77)/UDP(sport=5353, dport=4242)/(b"x"*200), 120)
    const first = hex(
      '6000000000502c4020010db800010000000000000000000520010db8000200000000000000000002110000010000004d14e9109200d06e4878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
    );
    const second = hex(
      '6000000000502c4020010db800010000000000000000000520010db8000200000000000000000002110000490000004d787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
    );
    expect(view(first)).toMatchObject({ protocol: 17, localPort: 5353, remotePort: 4242 });
    expect(view(second)).toMatchObject({ protocol: 17, localPort: 'opaque', remotePort: 'opaque' });
  });

  it('an unknown Routing header with segments left hides the destination: refused', () => {
    // IPv6 | Routing type 0 (segments left 1) | No Next Header, built by hand.
    const bytes = hex('6000000000182b4020010db800010000000000000000000520010db80002000000000000000000023b02000100000000' + '20010db8000300000000000000000003');
    expect(view(bytes)).toEqual({ status: WireStatus.UnknownRoutingType });
  });
});

/*
 * RFC 3776 §3.1, Binding Updates and Acknowledgements (ESP in transport mode):
 *
 *    IPv6 header (source = care-of address,
 *                 destination = home agent)
 *    Destination Options header
 *       Home Address option (home address)
 *    ESP header in transport mode
 *    Mobility header
 *       Binding Update
 *          Alternate Care-of Address option (care-of address)
 *
 *    IPv6 header (source = home agent,
 *                 destination = care-of address)
 *    Routing header (type 2)
 *       home address
 *    ESP header in transport mode
 *    Mobility header
 *       Binding Acknowledgement
 *
 * RFC 3776 §3.3 (prefix discovery) uses the same two orders around ICMPv6 Mobile Prefix
 * Solicitation (146) and Advertisement (147). The transport-mode SAs are keyed on the home
 * address, so extraction must report it (RFC 3776 §4.2).
 *
 * Packets generated with scapy 2.5.0, addresses: care-of 2001:db8:ff::1, home agent 2001:db8:1::1,
 * home address 2001:db8:1::100.
 */
const COA = '2001:db8:ff::1';
const HA = '2001:db8:1::1';
const HOA = '2001:db8:1::100';
const RFC3776 = {
  // IPv6(src=coa, dst=ha)/IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])/MIP6MH_BU(seq=7, flags=0x30, mhtime=100, options=[MIP6OptAltCoA(acoa=coa)])
  bindingUpdate:
    '6000000000383c4020010db800ff0000000000000000000120010db8000100000000000000000001870201020000c91020010db80001000000000000000001003b030500cfab0007600000640100031020010db800ff00000000000000000001',
  // IPv6(src=ha, dst=coa)/IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)/MIP6MH_BA(status=0, seq=7, mhtime=100)
  bindingAck:
    '6000000000282b4020010db800010000000000000000000120010db800ff00000000000000000001870202010000000020010db80001000000000000000001003b010600600500800007006401020000',
  // The same two orders after ESP was inserted: ...DestOpt(HAO)/ESP(spi=0x1001) and ...Routing(type 2)/ESP(spi=0x2002)
  bindingUpdateEsp:
    '6000000000383c4020010db800ff0000000000000000000120010db8000100000000000000000001320201020000c91020010db80001000000000000000001000000100100000001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  bindingAckEsp:
    '6000000000382b4020010db800010000000000000000000120010db800ff00000000000000000001320202010000000020010db80001000000000000000001000000200200000001bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  // IPv6(src=coa, dst=ha)/IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])/ICMPv6MPSol(id=9)
  prefixSolicitation: '6000000000203c4020010db800ff0000000000000000000120010db80001000000000000000000013a0201020000c91020010db80001000000000000000001009200113f00090000',
  // IPv6(src=ha, dst=coa)/IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)/ICMPv6MPAdv(id=9)
  prefixAdvertisement: '6000000000202b4020010db800010000000000000000000120010db800ff000000000000000000013a0202010000000020010db80001000000000000000001009300903e00098000',
};

describe('RFC 3776 §3.1 header orders resolve to the home address', () => {
  it('Binding Update: the Home Address option counts as the source', () => {
    expect(view(hex(RFC3776.bindingUpdate), Direction.Outbound)).toEqual({
      status: WireStatus.Ok,
      local: HOA,
      remote: HA,
      protocol: IpProtocol.Mobility,
      localPort: 5 << 8,
      remotePort: 'opaque',
    });
    // At the home agent's side the same packet is inbound: local = home agent.
    expect(view(hex(RFC3776.bindingUpdate), Direction.Inbound)).toMatchObject({ local: HA, remote: HOA });
  });

  it('Binding Acknowledgement: the type 2 Routing header address counts as the destination', () => {
    expect(view(hex(RFC3776.bindingAck), Direction.Outbound)).toEqual({
      status: WireStatus.Ok,
      local: HA,
      remote: HOA,
      protocol: IpProtocol.Mobility,
      localPort: 6 << 8,
      remotePort: 'opaque',
    });
  });

  it('with ESP inserted after the Home Address option / Routing header, the addresses are the same', () => {
    expect(view(hex(RFC3776.bindingUpdateEsp), Direction.Inbound)).toMatchObject({ local: HA, remote: HOA, protocol: IpProtocol.Esp });
    expect(view(hex(RFC3776.bindingAckEsp), Direction.Inbound)).toMatchObject({ local: HOA, remote: HA, protocol: IpProtocol.Esp });
  });

  it('prefix discovery (§3.3) resolves the same way', () => {
    expect(view(hex(RFC3776.prefixSolicitation))).toMatchObject({ local: HOA, remote: HA, protocol: 58, localPort: 146 << 8 });
    expect(view(hex(RFC3776.prefixAdvertisement))).toMatchObject({ local: HA, remote: HOA, protocol: 58, localPort: 147 << 8 });
  });

  it('a Routing header with no segment left already shows the final destination in the IPv6 header', () => {
    const processed = hex(RFC3776.bindingAck);
    processed[40 + 3] = 0; // Segments Left = 0
    expect(view(processed)).toMatchObject({ remote: COA });
  });

  it('an SPD keyed on the home address protects BU/BA with ESP transport at both ends', () => {
    const protect = { mode: 'transport' as const, algorithms: ['aes-gcm-16-128' as const] };
    const mobileNode = SecurityPolicyDatabase.build([
      { id: 1, name: 'bu', local: HOA, remote: HA, protocol: 'mh', mhType: 5, action: 'protect', protect },
      { id: 2, name: 'ba', local: HOA, remote: HA, protocol: 'mh', mhType: 6, action: 'protect', protect },
    ]);
    const homeAgent = SecurityPolicyDatabase.build([
      { id: 1, name: 'bu', local: HA, remote: HOA, protocol: 'mh', mhType: 5, action: 'protect', protect },
      { id: 2, name: 'ba', local: HA, remote: HOA, protocol: 'mh', mhType: 6, action: 'protect', protect },
    ]);
    const p = new PacketSelectors();
    const bu = hex(RFC3776.bindingUpdate);
    const ba = hex(RFC3776.bindingAck);
    extractor.extract(bu, 0, bu.length, Direction.Outbound, p);
    expect(mobileNode.lookup(p)).toBe(0);
    extractor.extract(bu, 0, bu.length, Direction.Inbound, p);
    expect(homeAgent.lookup(p)).toBe(0);
    extractor.extract(ba, 0, ba.length, Direction.Outbound, p);
    expect(homeAgent.lookup(p)).toBe(1);
    extractor.extract(ba, 0, ba.length, Direction.Inbound, p);
    expect(mobileNode.lookup(p)).toBe(1);
  });
});
