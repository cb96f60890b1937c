/** Whether the nft program (nftables) runs here: the host-stack tests that install rules need it. */
import { execFileSync } from 'node:child_process';

export const HAS_NFT = (() => {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
