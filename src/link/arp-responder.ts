/**
 * ARP on the black link (RFC 826) for the TEP address: answers requests for it, learns senders
 * that talk to it, resolves IPv4 next hops through the neighbor table (broadcast requests, then
 * RFC 1122 §2.3.2.1 unicast probes of stale entries), announces the address at start and defends
 * it against conflicting senders (RFC 5227 §3, §2.4).
 */
import { DropReason, type DropCounters } from '../dataplane/drop-reason.js';
import { ARP_BYTES, ArpOperation, ArpPacket, parseArp, writeArp } from '../wire/arp.js';
import { readU48 } from '../wire/bytes.js';
import { ETHERNET_HEADER_BYTES, EthernetHeader, NO_VLAN, parseEthernet, writeEthernetHeader } from '../wire/ethernet.js';
import { EtherType } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { BROADCAST_MAC, isGroupMacAt, isOnTepLink } from './link-addresses.js';
import type { LinkSettings } from './link-config.js';
import { Ipv4NeighborTable, neighborTableOptions, type NeighborSend, type NeighborSolicitor } from './neighbor-table.js';
import { LinkPort, type LinkTransmitQueue } from './transmit-queue.js';

/** Shortest Ethernet frame without FCS (IEEE 802.3 §3.2.8); ARP frames are zero-padded to it. */
const ETHERNET_MIN_FRAME = 60;
/** RFC 5227 §1.1: announcements sent at start, their spacing, and the least time between defenses. */
const ANNOUNCE_NUM = 2;
const ANNOUNCE_INTERVAL_MS = 2000;
const DEFEND_INTERVAL_MS = 10_000;

export class ArpCounters {
  requestsAnswered = 0;
  repliesReceived = 0;
  /** ARP for other addresses (normal on a shared segment). */
  notForUs = 0;
  /** Frames that failed to parse or carried a group sender MAC. */
  malformed = 0;
  /** ARP claiming the TEP address from another MAC (RFC 5227 §2.4). */
  addressConflicts = 0;
  requestsSent = 0;
  announcementsSent = 0;
}

export class ArpResponder implements NeighborSolicitor {
  readonly counters = new ArpCounters();
  readonly neighbors: Ipv4NeighborTable;
  private readonly ethernet = new EthernetHeader();
  private readonly arp = new ArpPacket();
  private announcementsLeft = 0;
  private nextAnnouncement = 0;
  private lastDefense = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly settings: LinkSettings,
    private readonly transmit: LinkTransmitQueue,
    drops: DropCounters,
  ) {
    this.neighbors = new Ipv4NeighborTable(
      neighborTableOptions(settings, transmit),
      transmit,
      drops,
    );
    this.neighbors.attach(this);
  }

  /** Announces the TEP address (RFC 5227 §3: ANNOUNCE_NUM announcements ANNOUNCE_INTERVAL apart). */
  start(now: number): void {
    this.announcementsLeft = ANNOUNCE_NUM;
    this.nextAnnouncement = now;
    this.poll(now);
  }

  /** Runs announcements and the neighbor timers. */
  poll(now: number): void {
    if (this.announcementsLeft > 0 && now >= this.nextAnnouncement) {
      this.announcementsLeft--;
      this.nextAnnouncement = now + ANNOUNCE_INTERVAL_MS;
      this.announce();
    }
    this.neighbors.poll(now);
  }

  /**
   * Handles an ARP frame received on black. Returns -1 when the frame was consumed (answered,
   * learned from, or ARP for someone else), else the DropReason to count.
   */
  receive(bytes: Uint8Array, start: number, length: number, now: number): number {
    const eth = this.ethernet;
    const arp = this.arp;
    const ethStatus = parseEthernet(bytes, start, length, eth);
    if (ethStatus !== WireStatus.Ok) {
      this.counters.malformed++;
      return DropReason.Malformed;
    }
    if (eth.etherType !== EtherType.Arp || eth.outerVlanId !== NO_VLAN) return DropReason.Unsupported;
    if (parseArp(bytes, eth.l3Offset, start + length - eth.l3Offset, arp) !== WireStatus.Ok || isGroupMacAt(bytes, arp.senderMacOffset)) {
      this.counters.malformed++;
      return DropReason.Malformed;
    }
    const senderMac = readU48(bytes, arp.senderMacOffset);
    const sender = arp.senderIp | 0; // the neighbor table's form of an address
    const tep = this.settings.tepAddress;
    if (arp.senderIp === tep) {
      if (senderMac !== this.settings.blackMac) this.defend(now);
      return -1;
    }
    if (arp.targetIp !== tep) {
      // A gratuitous ARP may move a known neighbor to a new MAC (RFC 5227 §3), never add one.
      if (arp.senderIp === arp.targetIp) this.neighbors.confirm(sender, senderMac, false, true, now);
      else this.counters.notForUs++;
      return -1;
    }
    if (arp.operation === ArpOperation.Reply) {
      this.counters.repliesReceived++;
      this.neighbors.confirm(sender, senderMac, true, true, now);
      return -1;
    }
    // RFC 826: a request for us adds its sender (unless an RFC 5227 probe from 0.0.0.0 or off-link).
    if (arp.senderIp !== 0 && isOnTepLink(this.settings, arp.senderIp)) this.neighbors.learn(sender, senderMac, now);
    if (this.write(senderMac, ArpOperation.Reply, senderMac, arp.senderIp)) this.counters.requestsAnswered++;
    return -1;
  }

  /**
   * Addresses the frame at [start, start + length) to the IPv4 next hop (see `ipv4NextHop`), or
   * queues it while the next hop is resolved.
   */
  resolve(bytes: Uint8Array, start: number, length: number, nextHop: number, now: number): NeighborSend {
    return this.neighbors.send(bytes, start, length, nextHop, now);
  }

  /** NeighborSolicitor: a broadcast request, or a unicast one to check a stale entry (RFC 1122 §2.3.2.1). */
  solicit(entry: number, unicastMac: number): void {
    if (this.write(unicastMac < 0 ? BROADCAST_MAC : unicastMac, ArpOperation.Request, 0, this.neighbors.addressOf(entry))) {
      this.counters.requestsSent++;
    }
  }

  /** RFC 5227 §2.4 (b): one announcement per DEFEND_INTERVAL while another host claims the TEP. */
  private defend(now: number): void {
    this.counters.addressConflicts++;
    if (now - this.lastDefense < DEFEND_INTERVAL_MS) return;
    this.lastDefense = now;
    this.announce();
  }

  /** ARP Announcement: a broadcast request with sender and target IP both the TEP (RFC 5227 §3). */
  private announce(): void {
    if (this.write(BROADCAST_MAC, ArpOperation.Request, 0, this.settings.tepAddress)) this.counters.announcementsSent++;
  }

  /** Queues an ARP packet from the TEP on black; false when the transmit queue is full. */
  private write(dstMac: number, operation: number, targetMac: number, targetIp: number): boolean {
    const off = this.transmit.claim();
    if (off < 0) return false;
    const bytes = this.transmit.slots.bytes;
    const { blackMac, tepAddress } = this.settings;
    writeEthernetHeader(bytes, off, dstMac, blackMac, NO_VLAN, EtherType.Arp);
    writeArp(bytes, off + ETHERNET_HEADER_BYTES, operation, blackMac, tepAddress, targetMac, targetIp);
    bytes.fill(0, off + ETHERNET_HEADER_BYTES + ARP_BYTES, off + ETHERNET_MIN_FRAME);
    this.transmit.commit(LinkPort.Black, ETHERNET_MIN_FRAME);
    return true;
  }
}
