/**
 * AES-GCM test cases 1-4 (AES-128) and 13-16 (AES-256), the 96-bit-IV cases from McGrew & Viega,
 * "The Galois/Counter Mode of Operation (GCM)", Appendix B. Hex; ciphertext excludes the tag.
 */
import type { AeadAlgorithm } from '../../../src/crypto/aead.js';

export interface AeadVector {
  name: string;
  alg: AeadAlgorithm;
  key: string;
  nonce: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

const K0_128 = '00000000000000000000000000000000';
const K0_256 = K0_128 + K0_128;
const K_128 = 'feffe9928665731c6d6a8f9467308308';
const K_256 = K_128 + K_128;
const IV0 = '000000000000000000000000';
const IV = 'cafebabefacedbaddecaf888';
const AAD = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
const P60 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
const P64 = P60 + '1aafd255';
const C128_60 =
  '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
  '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091';
const C256_60 =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
  '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662';

export const GCM_SPEC_VECTORS: readonly AeadVector[] = [
  { name: 'test case 1', alg: 'aes-gcm-16-128', key: K0_128, nonce: IV0, aad: '', plaintext: '', ciphertext: '', tag: '58e2fccefa7e3061367f1d57a4e7455a' },
  {
    name: 'test case 2', alg: 'aes-gcm-16-128', key: K0_128, nonce: IV0, aad: '', plaintext: K0_128,
    ciphertext: '0388dace60b6a392f328c2b971b2fe78', tag: 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  { name: 'test case 3', alg: 'aes-gcm-16-128', key: K_128, nonce: IV, aad: '', plaintext: P64, ciphertext: C128_60 + '473f5985', tag: '4d5c2af327cd64a62cf35abd2ba6fab4' },
  { name: 'test case 4', alg: 'aes-gcm-16-128', key: K_128, nonce: IV, aad: AAD, plaintext: P60, ciphertext: C128_60, tag: '5bc94fbc3221a5db94fae95ae7121a47' },
  { name: 'test case 13', alg: 'aes-gcm-16-256', key: K0_256, nonce: IV0, aad: '', plaintext: '', ciphertext: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  {
    name: 'test case 14', alg: 'aes-gcm-16-256', key: K0_256, nonce: IV0, aad: '', plaintext: K0_128,
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  { name: 'test case 15', alg: 'aes-gcm-16-256', key: K_256, nonce: IV, aad: '', plaintext: P64, ciphertext: C256_60 + '898015ad', tag: 'b094dac5d93471bdec1a502270e3cc6c' },
  { name: 'test case 16', alg: 'aes-gcm-16-256', key: K_256, nonce: IV, aad: AAD, plaintext: P60, ciphertext: C256_60, tag: '76fc6ece0f4e1768cddf8853bb2d551b' },
];
