/** Where the lab finds its files: the strongSwan peer scripts next to the project and the baseline configs. */
import path from 'node:path';
import { packageRoot } from '../platform/package-root.js';

/** The shared strongSwan-in-a-namespace scripts (README.md, strongswan-netns.sh): `../shared/peers`. */
export const peersDir: string = path.resolve(packageRoot(), '..', 'shared', 'peers');

/** strongSwan configurations of the throughput baseline. */
export const benchLabDir: string = path.join(packageRoot(), 'bench', 'lab');
