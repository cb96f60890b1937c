/** Mobility Header (IPv6 Next Header 135, RFC 6275 §6.1): the MH Type selector's field (RFC 4301 §4.4.1.1). */

/** Offset of the MH Type (RFC 6275 §6.1.1). */
export const MH_TYPE = 2;
