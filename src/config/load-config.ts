/**
 * Loads the appliance configuration file (YAML). The whole file is validated and built as a unit:
 * either every section is valid and an ApplianceConfig is returned with its warnings, or a
 * ConfigError lists every issue with its path and line, and secrets parsed so far are wiped.
 */

import { readFileSync } from 'node:fs';
import { PeerAuthorizationDatabase, type PadEntryConfig } from '../policy/pad.js';
import { SecurityPolicyDatabase, type SpdEntryConfig } from '../policy/spd.js';
import { readName } from '../policy/names.js';
import { isPlainObject, IssueList, PolicyValidationError, quote } from '../policy/validation.js';
import { ApplianceConfig } from './appliance-config.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { collectWarnings } from './config-warnings.js';
import { readBoolean } from './field-readers.js';
import { parseGateway } from './gateway-section.js';
import { parseInterfaces } from './interfaces-section.js';
import { parseManualKeys } from './manual-keys-section.js';
import { parsePeers } from './peers-section.js';
import { checkTunnelModeEntries } from './tunnel-mode-rules.js';
import { YamlSource } from './yaml-source.js';

/** The only file format version so far. */
export const CONFIG_VERSION = 1;

const TOP_FIELDS = ['version', 'name', 'interfaces', 'gateway', 'bridgeIpv4', 'peers', 'spd', 'pad', 'manualKeys'];

export interface LoadedConfig {
  readonly config: ApplianceConfig;
  /** Problems that do not stop the configuration (manual keys, shadowed SPD entries, ...). */
  readonly warnings: readonly ConfigIssue[];
}

/** Reads and loads a configuration file; a file that cannot be read is a ConfigError too. */
export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [{ path: '', line: 0, message: `cannot read the file (${code ?? (e as Error).message}): check the path and its permissions` }]);
  }
  return parseConfigText(text, path);
}

/** Validates and builds a configuration from YAML text; `sourceName` names it in messages. */
export function parseConfigText(text: string, sourceName: string): LoadedConfig {
  const source = new YamlSource(text);
  if (source.syntaxIssues.length > 0) throw new ConfigError(sourceName, source.syntaxIssues);
  const root = source.data;
  if (!isPlainObject(root)) {
    const message = root == null
      ? 'the file is empty: write a configuration starting with "version: 1"'
      : 'must be a YAML mapping of version, name, interfaces, spd and the other sections';
    throw new ConfigError(sourceName, [{ path: '', line: 1, message }]);
  }

  const issues = new IssueList();
  for (const key of Object.keys(root)) {
    if (!TOP_FIELDS.includes(key)) issues.add(key, `unknown field: use one of ${TOP_FIELDS.join(', ')}`);
  }
  if (root.version === undefined) issues.add('version', `is required: start the file with "version: ${CONFIG_VERSION}"`);
  else if (root.version !== CONFIG_VERSION) issues.add('version', `${quote(root.version)} is not a supported version: use ${CONFIG_VERSION}`);
  const name = readName(root.name, 'name', issues);
  const gatewayRole = root.gateway !== undefined;
  const gateway = gatewayRole ? parseGateway(root.gateway, issues) : null;
  const interfaces = root.interfaces === undefined
    ? required('interfaces', 'give { red: { name }, black: { name } }', issues)
    : parseInterfaces(root.interfaces, gatewayRole, issues);
  const bridgeIpv4 = readBoolean(root.bridgeIpv4, 'bridgeIpv4', true, issues);
  const peers = parsePeers(root.peers, gatewayRole, gateway, issues);
  const spd = root.spd === undefined
    ? required('spd', 'list the SPD entries, first match wins (an empty list discards all traffic, RFC 4301 §5)', issues)
    : build(() => SecurityPolicyDatabase.build(root.spd as SpdEntryConfig[]), issues);
  const pad = build(() => PeerAuthorizationDatabase.build((root.pad ?? []) as PadEntryConfig[]), issues);
  if (spd !== null) checkTunnelModeEntries(spd, gatewayRole, gateway, peers, issues);
  const manualKeys = parseManualKeys(root.manualKeys, spd, issues);

  if (issues.count > 0 || name === null || interfaces === null || peers === null || spd === null || pad === null || manualKeys === null) {
    pad?.dispose();
    for (const k of manualKeys ?? []) k.keyAndSalt.zeroize();
    throw new ConfigError(sourceName, source.locate(issues.list));
  }
  const warnings = new IssueList();
  collectWarnings(spd, pad, manualKeys, warnings);
  const config = new ApplianceConfig({ name, interfaces, gateway, bridgeIpv4, peers, spd, pad, manualKeys });
  return Object.freeze({ config, warnings: Object.freeze(source.locate(warnings.list)) });
}

function required(path: string, hint: string, issues: IssueList): null {
  issues.add(path, `is required: ${hint}`);
  return null;
}

/** Runs a policy-layer builder, moving the issues it reports (already under spd[...] / pad[...]) into `issues`. */
function build<T>(builder: () => T, issues: IssueList): T | null {
  try {
    return builder();
  } catch (e) {
    if (!(e instanceof PolicyValidationError)) throw e;
    for (const issue of e.issues) issues.add(issue.path, issue.message);
    return null;
  }
}
