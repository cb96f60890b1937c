/** ECN across a tunnel, normal mode of RFC 6040 (used by 6in4, IPIP and ESP tunnel mode). */
import { Ecn } from '../wire/ecn.js';

/** RFC 6040 §4.1 normal mode: the outer header copies the inner ECN field. */
export function outerEcnOnEncapsulation(innerEcn: number): number {
  return innerEcn & 0x03;
}

/** Returned by innerEcnOnDecapsulation when the packet must be dropped. */
export const ECN_DROP = -1;

/**
 * RFC 6040 §4.2 decapsulation table: the inner ECN to forward, or ECN_DROP for CE outside a
 * Not-ECT inner packet (congestion that the inner transport cannot be told about).
 */
export function innerEcnOnDecapsulation(outerEcn: number, innerEcn: number): number {
  if (innerEcn === Ecn.NotEct) return outerEcn === Ecn.Ce ? ECN_DROP : Ecn.NotEct;
  if (outerEcn === Ecn.Ce) return Ecn.Ce;
  if (outerEcn === Ecn.Ect1 && innerEcn === Ecn.Ect0) return Ecn.Ect1;
  return innerEcn;
}
