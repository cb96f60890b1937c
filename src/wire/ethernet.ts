/** Ethernet II header codec with 802.1Q and 802.1ad (QinQ) tags. MAC addresses are offsets into `bytes`. */

import { inRange, readU16, writeU16, writeU48 } from './bytes.js';
import { EtherType } from './protocol.js';
import { WireStatus } from './status.js';

export const ETHERNET_HEADER_BYTES = 14;
export const VLAN_TAG_BYTES = 4;
/** Field offsets from the start of the frame. */
export const ETHERNET_DST = 0;
export const ETHERNET_SRC = 6;
export const ETHERNET_TYPE = 12;
/** Destination and source MAC together: the first 12 bytes of a frame. */
export const ETHERNET_ADDRESSES_BYTES = 12;
/** Values below this are 802.3 length fields, not EtherTypes (IEEE 802.3 §3.2.6). */
const MIN_ETHERTYPE = 0x0600;
const VLAN_ID_MASK = 0x0fff;
/** `outerVlanId`/`innerVlanId` of an untagged frame. */
export const NO_VLAN = -1;

export class EthernetHeader {
  dstOffset = 0;
  srcOffset = 0;
  /** VLAN id of the first tag (802.1ad S-tag or 802.1Q tag), or NO_VLAN. */
  outerVlanId = NO_VLAN;
  /** VLAN id of the 802.1Q tag inside an outer tag, or NO_VLAN. */
  innerVlanId = NO_VLAN;
  /** EtherType after the tags. */
  etherType = 0;
  /** Absolute offset of the first byte after the Ethernet header and tags. */
  l3Offset = 0;
}

/**
 * Parses dst/src MAC, up to two VLAN tags (an 802.1ad or 802.1Q outer tag, then an 802.1Q inner
 * tag) and the EtherType. 802.3 length frames and an S-tag inside another tag are UnsupportedFrame.
 */
export function parseEthernet(bytes: Uint8Array, off: number, len: number, out: EthernetHeader): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < ETHERNET_HEADER_BYTES) return WireStatus.Truncated;
  const end = off + len;
  let etherType = readU16(bytes, off + ETHERNET_TYPE);
  let cur = off + ETHERNET_HEADER_BYTES;
  let outerVlanId = NO_VLAN;
  let innerVlanId = NO_VLAN;
  if (etherType === EtherType.ServiceVlan || etherType === EtherType.Vlan) {
    if (cur + VLAN_TAG_BYTES > end) return WireStatus.Truncated;
    outerVlanId = readU16(bytes, cur) & VLAN_ID_MASK;
    etherType = readU16(bytes, cur + 2);
    cur += VLAN_TAG_BYTES;
    if (etherType === EtherType.ServiceVlan) return WireStatus.UnsupportedFrame;
    if (etherType === EtherType.Vlan) {
      if (cur + VLAN_TAG_BYTES > end) return WireStatus.Truncated;
      innerVlanId = readU16(bytes, cur) & VLAN_ID_MASK;
      etherType = readU16(bytes, cur + 2);
      cur += VLAN_TAG_BYTES;
      if (etherType === EtherType.Vlan || etherType === EtherType.ServiceVlan) return WireStatus.TooManyVlanTags;
    }
  }
  if (etherType < MIN_ETHERTYPE) return WireStatus.UnsupportedFrame;
  out.dstOffset = off + ETHERNET_DST;
  out.srcOffset = off + ETHERNET_SRC;
  out.outerVlanId = outerVlanId;
  out.innerVlanId = innerVlanId;
  out.etherType = etherType;
  out.l3Offset = cur;
  return WireStatus.Ok;
}

/**
 * Writes dst and src MAC (48-bit numbers), an optional 802.1Q tag (vlanId NO_VLAN for none,
 * priority 0) and the EtherType. Returns 14 or 18 bytes written, or 0 when it does not fit.
 */
export function writeEthernetHeader(bytes: Uint8Array, off: number, dst: number, src: number, vlanId: number, etherType: number): number {
  const length = headerLength(vlanId);
  if (!inRange(bytes, off, length)) return 0;
  writeU48(bytes, off + ETHERNET_DST, dst);
  writeU48(bytes, off + ETHERNET_SRC, src);
  writeTagAndType(bytes, off, vlanId, etherType);
  return length;
}

/**
 * writeEthernetHeader with both MACs copied from macs[macsOff, macsOff + 12) (destination, then
 * source), for the per-packet path: MACs kept as bytes never become 48-bit numbers, which V8
 * boxes (allocates) whenever one is passed to a call it did not inline.
 */
export function writeEthernetHeaderFrom(bytes: Uint8Array, off: number, macs: Uint8Array, macsOff: number, vlanId: number, etherType: number): number {
  const length = headerLength(vlanId);
  if (!inRange(bytes, off, length) || !inRange(macs, macsOff, ETHERNET_ADDRESSES_BYTES)) return 0;
  for (let k = 0; k < ETHERNET_ADDRESSES_BYTES; k++) bytes[off + k] = macs[macsOff + k];
  writeTagAndType(bytes, off, vlanId, etherType);
  return length;
}

function headerLength(vlanId: number): number {
  return vlanId === NO_VLAN ? ETHERNET_HEADER_BYTES : ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES;
}

/** The optional 802.1Q tag (priority 0) and the EtherType after the MACs of the frame at `off`. */
function writeTagAndType(bytes: Uint8Array, off: number, vlanId: number, etherType: number): void {
  let cur = off + ETHERNET_TYPE;
  if (vlanId !== NO_VLAN) {
    writeU16(bytes, cur, EtherType.Vlan);
    writeU16(bytes, cur + 2, vlanId & VLAN_ID_MASK);
    cur += VLAN_TAG_BYTES;
  }
  writeU16(bytes, cur, etherType);
}
