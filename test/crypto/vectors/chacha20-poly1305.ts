/** ChaCha20-Poly1305 AEAD vectors from RFC 8439 section 2.8.2 and RFC 7634 Appendix A. Hex. */
import type { AeadVector } from './gcm-spec.js';

const KEY = '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f';

/** RFC 8439 section 2.8.2: "Ladies and Gentlemen of the class of '99: ...". */
export const RFC8439_AEAD: AeadVector = {
  name: 'RFC 8439 section 2.8.2',
  alg: 'chacha20-poly1305',
  key: KEY,
  nonce: '070000004041424344454647',
  aad: '50515253c0c1c2c3c4c5c6c7',
  plaintext: Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.").toString('hex'),
  ciphertext:
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6' +
    '3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36' +
    '92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691',
};

/** RFC 7634 Appendix A: tunnel-mode ESP, SPI 0x01020304, Seq 5, salt a0a1a2a3, IV 1011121314151617. */
export const RFC7634_ESP: AeadVector = {
  name: 'RFC 7634 Appendix A',
  alg: 'chacha20-poly1305',
  key: KEY,
  nonce: 'a0a1a2a31011121314151617',
  aad: '0102030400000005',
  plaintext:
    '45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10' +
    '0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223' +
    '2425262728292a2b2c2d2e2f303132333435363701020204',
  ciphertext:
    '24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6' +
    '14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3' +
    'cbec163fac469b502773f6fb94e664da9165b82829f641e0',
  tag: '76aaa8266b7fb0f7b11b369907e1ad43',
};
