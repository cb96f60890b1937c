/** ARP for Ethernet/IPv4 (RFC 826): request/reply parse and write. */

import { inRange, readU16, readU32, writeU16, writeU32, writeU48 } from './bytes.js';
import { EtherType } from './protocol.js';
import { WireStatus } from './status.js';

export const ARP_BYTES = 28;
/** Field offsets (RFC 826 "Packet format"). */
export const ARP_HARDWARE_TYPE = 0;
export const ARP_PROTOCOL_TYPE = 2;
export const ARP_HARDWARE_LENGTH = 4;
export const ARP_PROTOCOL_LENGTH = 5;
export const ARP_OPERATION = 6;
export const ARP_SENDER_MAC = 8;
export const ARP_SENDER_IP = 14;
export const ARP_TARGET_MAC = 18;
export const ARP_TARGET_IP = 24;
const HARDWARE_ETHERNET = 1;
/** Bytes up to and including the operation field. */
const FIXED_BYTES = 8;

export const ArpOperation = Object.freeze({ Request: 1, Reply: 2 });

export class ArpPacket {
  operation = 0;
  /** Absolute offsets of the 6-byte sender and target hardware addresses. */
  senderMacOffset = 0;
  targetMacOffset = 0;
  /** IPv4 addresses as unsigned 32-bit integers. */
  senderIp = 0;
  targetIp = 0;
}

/** Parses an Ethernet/IPv4 ARP request or reply; other hardware or protocol formats are UnsupportedAddressFormat. */
export function parseArp(bytes: Uint8Array, off: number, len: number, out: ArpPacket): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < FIXED_BYTES) return WireStatus.Truncated;
  if (
    readU16(bytes, off + ARP_HARDWARE_TYPE) !== HARDWARE_ETHERNET ||
    readU16(bytes, off + ARP_PROTOCOL_TYPE) !== EtherType.Ipv4 ||
    bytes[off + ARP_HARDWARE_LENGTH] !== 6 ||
    bytes[off + ARP_PROTOCOL_LENGTH] !== 4
  ) {
    return WireStatus.UnsupportedAddressFormat;
  }
  const operation = readU16(bytes, off + ARP_OPERATION);
  if (operation !== ArpOperation.Request && operation !== ArpOperation.Reply) return WireStatus.BadOperation;
  if (len < ARP_BYTES) return WireStatus.Truncated;
  out.operation = operation;
  out.senderMacOffset = off + ARP_SENDER_MAC;
  out.senderIp = readU32(bytes, off + ARP_SENDER_IP);
  out.targetMacOffset = off + ARP_TARGET_MAC;
  out.targetIp = readU32(bytes, off + ARP_TARGET_IP);
  return WireStatus.Ok;
}

/** Writes an Ethernet/IPv4 ARP packet (MACs as 48-bit numbers). Returns 28, or 0 when it does not fit. */
export function writeArp(
  bytes: Uint8Array,
  off: number,
  operation: number,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
): number {
  if (!inRange(bytes, off, ARP_BYTES)) return 0;
  writeU16(bytes, off + ARP_HARDWARE_TYPE, HARDWARE_ETHERNET);
  writeU16(bytes, off + ARP_PROTOCOL_TYPE, EtherType.Ipv4);
  bytes[off + ARP_HARDWARE_LENGTH] = 6;
  bytes[off + ARP_PROTOCOL_LENGTH] = 4;
  writeU16(bytes, off + ARP_OPERATION, operation);
  writeU48(bytes, off + ARP_SENDER_MAC, senderMac);
  writeU32(bytes, off + ARP_SENDER_IP, senderIp);
  writeU48(bytes, off + ARP_TARGET_MAC, targetMac);
  writeU32(bytes, off + ARP_TARGET_IP, targetIp);
  return ARP_BYTES;
}
