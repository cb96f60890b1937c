/** ECN codepoints: the two low bits of the IPv4 TOS / IPv6 Traffic Class byte (RFC 3168 §5). */
export const Ecn = Object.freeze({
  NotEct: 0,
  Ect1: 1,
  Ect0: 2,
  Ce: 3,
});
export type Ecn = (typeof Ecn)[keyof typeof Ecn];
