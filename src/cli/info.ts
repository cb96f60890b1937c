/** `redblack info`: version, AEAD backend, CPU crypto features and the ESP proposal order. */
import { selectAeadBackend } from '../crypto/index.js';
import { detectCpuCryptoFeatures, preferredEspProposals } from '../platform/cpu-features.js';
import { packageVersion } from '../platform/package-root.js';

export interface InfoReport {
  version: string;
  node: string;
  arch: string;
  aeadBackend: string;
  cpu: { aes: boolean; clmul: boolean; flags: string[] };
  espProposals: string[];
}

export function collectInfo(): InfoReport {
  const cpu = detectCpuCryptoFeatures();
  return {
    version: packageVersion(),
    node: process.versions.node,
    arch: cpu.arch,
    aeadBackend: selectAeadBackend().name,
    cpu: { aes: cpu.aes, clmul: cpu.clmul, flags: cpu.flags },
    espProposals: preferredEspProposals(cpu),
  };
}

export function formatInfo(r: InfoReport): string {
  const hw = r.arch === 'arm64' ? 'aes/pmull HWCAPs' : 'AES-NI/PCLMULQDQ';
  return [
    `redblack ${r.version} (node ${r.node}, ${r.arch})`,
    `AEAD backend:   ${r.aeadBackend}`,
    `CPU crypto:     ${r.cpu.aes && r.cpu.clmul ? 'yes' : 'no'} (${hw}); flags: ${r.cpu.flags.join(' ') || 'none'}`,
    `ESP proposals:  ${r.espProposals.join(', ')}`,
  ].join('\n');
}
