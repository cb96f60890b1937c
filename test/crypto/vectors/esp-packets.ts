/**
 * Complete ESP packets (SPI | Seq | IV | ciphertext | ICV) for the batch API. Hex.
 * - draft-mcgrew-gcm-test-01 AES-GCM ESP examples (with and without ESN).
 * - RFC 7634 Appendix A (ChaCha20-Poly1305 ESP).
 * - RFC 8439 section 2.8.2 read as ESP with ESN: its AAD 50515253|c0c1c2c3|c4c5c6c7 is
 *   SPI|SeqHigh|SeqLow and its nonce 07000000|4041424344454647 is salt|IV.
 */
import type { AeadAlgorithm } from '../../../src/crypto/aead.js';
import { RFC7634_ESP, RFC8439_AEAD } from './chacha20-poly1305.js';

export interface EspVector {
  name: string;
  alg: AeadAlgorithm;
  /** KEYMAT: key || 4-byte salt. */
  keyAndSalt: string;
  esn: boolean;
  /** High 32 bits of the ESN (0 without ESN). */
  seqHigh: number;
  /** The cleartext that goes between the IV and the ICV (payload, padding, pad length, next header). */
  text: string;
  /** The ESP packet on the wire. */
  packet: string;
}

export const ESP_VECTORS: readonly EspVector[] = [
  {
    name: 'draft-mcgrew-gcm-test-01: AES-128, ESN',
    alg: 'aes-gcm-16-128',
    keyAndSalt: '4c80cdefbb5d10da906ac73c3613a634' + '2e443b68',
    esn: true,
    seqHigh: 0x87654321,
    text:
      '45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000' +
      '00000000045f736970045f756470037369700963796265726369747902646b00' +
      '0021000101020201',
    packet:
      '00004321000000004956ed7e3b244cfe' +
      'fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34' +
      'cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce' +
      '61bc17d768fd9732459018148f6cbe722fd04796562dfdb4',
  },
  {
    name: 'draft-mcgrew-gcm-test-01: AES-128',
    alg: 'aes-gcm-16-128',
    keyAndSalt: 'feffe9928665731c6d6a8f9467308308' + 'cafebabe',
    esn: false,
    seqHigh: 0,
    text:
      '4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100' +
      '0001000000000000037369700963796265726369747902646b00000100010001',
    packet:
      '0000a5f80000000afacedbaddecaf888' +
      'deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c' +
      '3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1' +
      '83b70d3aa8bc6ee4c309e9d85a41ad4a',
  },
  {
    name: 'draft-mcgrew-gcm-test-01: AES-256',
    alg: 'aes-gcm-16-256',
    keyAndSalt: 'abbccddef00112233445566778899aababbccddef00112233445566778899aab' + '11223344',
    esn: false,
    seqHigh: 0,
    text: '4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000' + '7002400020bf0000020405b40101040201020201',
    packet:
      '4a2cbfe3000000020102030405060708' +
      'ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763' +
      '748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49' +
      '15956c96',
  },
  {
    name: 'draft-mcgrew-gcm-test-01: AES-128, 4-byte text',
    alg: 'aes-gcm-16-128',
    keyAndSalt: '7d773d00c144c525ac619d18c84a3f47' + 'd9664267',
    esn: false,
    seqHigh: 0,
    text: '01020201',
    packet: '335467aeffffffff43457e9182443bc6' + '437f866bcb3f699fe9b0822bac961c4504bef270',
  },
  {
    name: 'draft-mcgrew-gcm-test-01: AES-256, ESN',
    alg: 'aes-gcm-16-256',
    keyAndSalt: '6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961' + '7475726e',
    esn: true,
    seqHigh: 0xffffffff,
    text:
      '45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364' +
      '65666768696a6b6c6d6e6f707172737401020201',
    packet:
      '796b6963ffffffff333021696765746d' +
      'f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86' +
      '4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32' +
      '9fb4c053',
  },
  {
    name: 'RFC 7634 Appendix A',
    alg: 'chacha20-poly1305',
    keyAndSalt: RFC7634_ESP.key + 'a0a1a2a3',
    esn: false,
    seqHigh: 0,
    text: RFC7634_ESP.plaintext,
    packet: '01020304000000051011121314151617' + RFC7634_ESP.ciphertext + RFC7634_ESP.tag,
  },
  {
    name: 'RFC 8439 section 2.8.2 as ESP with ESN',
    alg: 'chacha20-poly1305',
    keyAndSalt: RFC8439_AEAD.key + '07000000',
    esn: true,
    seqHigh: 0xc0c1c2c3,
    text: RFC8439_AEAD.plaintext,
    packet: '50515253c4c5c6c74041424344454647' + RFC8439_AEAD.ciphertext + RFC8439_AEAD.tag,
  },
];
