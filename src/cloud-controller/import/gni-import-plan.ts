/**
 * `planGniImport`: a Eucalyptus network-info document (4.0–4.4, already read
 * and validated by src/shared/gni) → the rows `edgenet import gni` writes
 * (import-gni.ts). Pure: every refusal is decided here, before the database
 * is opened for writing, and all problems are reported at once.
 *
 * What becomes what:
 * - a document cluster → a registered cluster: CC address `enabledCCIp`, CC
 *   URL `https://<enabledCCIp>:<ccPort>/` (change it later with
 *   `edgenet cluster update`); its nodes → registered nodes, NC URL
 *   `https://<node>:<ncPort>/`;
 * - instances keep their id, owner, MAC and private IP; the node is the one
 *   whose `instanceIds` lists it. ROUTED (issue 17): an instance of an
 *   IPv6-only cluster (`routed` addressing ipv6) has no private IP, exactly
 *   as the document model allows it there alone (shared/gni/validate.ts,
 *   netd's sanitize), and takes no IPv4 lease, as the CLC's run path stores
 *   one (services/instances.ts: private_ip NULL); an instance's user data
 *   (its `routed` extension, shared/gni/routed.ts instanceUserData) is
 *   checked as the API checks it (args.ts userDataArgument: base64, at most
 *   16 KiB decoded) and kept in the API's canonical base64;
 * - security groups keep their id, owner and rules; the document carries no
 *   group names, so a group is named `imported-<id>`; a group only named by
 *   a rule (owner from the rule's groupOwnerId) is created without rules;
 *   the rules of a group's `ipv6` extension (an edgenet document's IPv6-only
 *   rules, shared/gni/ipv6.ts) are imported like `ingressRules`; a rule in
 *   the other family's list (`ruleDocumentPlace`), one netd refuses, or an
 *   unreadable rule string is left out with a warning, as netd leaves it out;
 * - a public IP (one distinct from the private IP: eucanetd and netd read
 *   `publicIp = privateIp` as "none", render/context.ts publicIpOf) becomes an
 *   address allocated to the instance's owner and associated with it.
 *   Allocated but unassociated addresses are not in a document and cannot be
 *   imported.
 * - every owner id of a group, an instance or an address (other than the
 *   admin account 000000000001) becomes an account named `account-<id>`,
 *   created in the import's transaction unless the database has it already
 *   (as migration 5 does for the owners of an upgraded database). Its
 *   `default` group is not created by the import (the document must come
 *   out unchanged); it appears on the account's first EC2 request.
 *
 * Refused (IMPORT_UNSUPPORTED_ID): ids edgenet's services do not produce and
 * do not resolve — instance ids other than `i-` + 8 lowercase hex, group ids
 * other than `sg-` + 8 lowercase hex (so long 17-hex ids), owners other than
 * 12 digits. Refused (IMPORT_INCONSISTENT): an instance on no node or on two,
 * two instances with one MAC or one private IP, a public IP on two
 * instances, an instance none of whose groups is in the document, an
 * instance without a private IP anywhere but in an IPv6-only ROUTED cluster
 * and one with a private IP in such a cluster, a cluster without
 * `enabledCCIp`, a document cluster the given property does not list.
 * Refused (IMPORT_INVALID_USER_DATA): user data the API would refuse.
 * These are states the CLC's document could not reproduce, so accepting them
 * would change what nodes lay down.
 */
import { UserError } from '../../shared/errors.ts';
import type { ErrorCode } from '../../shared/error-codes.ts';
import type { GniCluster, GniDocument, GniInstance, GniRule } from '../../shared/gni/model.ts';
import { checkRule } from '../../shared/gni/rule-check.ts';
import { configurationIpv6, groupIpv6Rules, ICMPV6_PROTOCOL, ruleDocumentPlace } from '../../shared/gni/ipv6.ts';
import { clusterRoutedAddressing, instanceUserData } from '../../shared/gni/routed.ts';
import { formatIpCidr, parseIpCidr } from '../../shared/ip.ts';
import { DEFAULT_PORTS } from '../../shared/paths.ts';
import type { SnapshotInstance, SnapshotRule } from '../contracts.ts';
import { macFor } from '../services/instances.ts';
import { userDataArgument } from '../services/args.ts';
import { reconstructProperty } from './reconstruct-property.ts';
import { ADMIN_ACCOUNT_ID } from '../services/accounts.ts';

const IMPORTED_GROUP_PREFIX = 'imported-';
const IMPORTED_GROUP_DESCRIPTION = 'imported from a Eucalyptus network-info document (which carries no group names)';
const IMPORTED_PEER_DESCRIPTION = 'imported: named by a rule of a Eucalyptus network-info document that did not carry the group';

const INSTANCE_ID = /^i-[0-9a-f]{8}$/;
const GROUP_ID = /^sg-[0-9a-f]{8}$/;
const ACCOUNT = /^\d{12}$/;

interface ImportCluster {
  readonly name: string;
  readonly ccIp: string;
  readonly ccUrl: string;
}

interface ImportNode {
  readonly cluster: string;
  readonly name: string;
  readonly ncUrl: string;
}

interface ImportGroup {
  readonly id: string;
  readonly ownerId: string;
  readonly name: string;
  readonly description: string;
  readonly rules: readonly SnapshotRule[];
}

/**
 * An instance as the snapshot holds it; its public address is imported apart (ImportAddress). `groups`: in the document's order, those present in the document only.
 * `privateIp` absent: an instance of an IPv6-only ROUTED cluster (no lease). `userData`: canonical base64, as the API stores it.
 */
type ImportInstance = Omit<SnapshotInstance, 'publicIp'>;

/** An account the import creates for an owner id of the document. */
export interface GniImportAccount {
  readonly id: string;
  readonly name: string;
}

interface ImportAddress {
  readonly ip: string;
  readonly ownerId: string;
  readonly instanceId: string;
}

export interface GniImportPlan {
  /** `cloud.network.network_configuration` to store (validated by the import). */
  readonly propertyText: string;
  readonly propertySource: 'file' | 'document';
  /** Property fields the document cannot give back (reconstruct-property.ts); empty with `--property`. */
  readonly notReconstructed: readonly string[];
  /** Of those, what the property needs to validate (a ROUTED document without a node has no BGP); empty with `--property`. */
  readonly propertyGaps: readonly string[];
  /** The document's `enabledCLCIp`: the CLC's CLC_IP should be this address. */
  readonly clcIp?: string;
  /** The document's IPv6 `clc-address` (dual stack): the CLC's CLC_IPV6 should be this address. */
  readonly clcIpv6?: string;
  readonly clusters: readonly ImportCluster[];
  readonly nodes: readonly ImportNode[];
  readonly groups: readonly ImportGroup[];
  readonly instances: readonly ImportInstance[];
  readonly addresses: readonly ImportAddress[];
  /** The owners' accounts (`account-<id>`), by id; the admin account is never among them. */
  readonly accounts: readonly GniImportAccount[];
  readonly warnings: readonly string[];
}

interface PlanGniImportOptions {
  /** Text of `--property` (the Eucalyptus property JSON); reconstructed from the document when absent. */
  readonly propertyText?: string;
  readonly ccPort?: number;
  readonly ncPort?: number;
}

interface Problem {
  readonly code: ErrorCode;
  readonly message: string;
}

export function planGniImport(doc: GniDocument, options: PlanGniImportOptions = {}): GniImportPlan {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const unsupported = (message: string) => problems.push({ code: 'IMPORT_UNSUPPORTED_ID', message });
  const inconsistent = (message: string) => problems.push({ code: 'IMPORT_INCONSISTENT', message });
  const ccPort = options.ccPort ?? DEFAULT_PORTS.cc;
  const ncPort = options.ncPort ?? DEFAULT_PORTS.nc;
  const conf = doc.configuration;

  const clusters: ImportCluster[] = [];
  const nodes: ImportNode[] = [];
  const placement = new Map<string, { cluster: string; node: string; macPrefix: string; ipv6Only: boolean }>();
  for (const c of conf.clusters) {
    const ipv6Only = isIpv6OnlyCluster(doc, c);
    if (c.enabledCcIp === undefined) inconsistent(`cluster ${c.name} has no enabledCCIp: edgenet registers a cluster with its CC's address`);
    else {
      // One CC endpoint serves one cluster (services/clusters.ts); a document naming one CC
      // address for two clusters gets the next port for the second, to be corrected by hand.
      const taken = clusters.filter((x) => x.ccIp === c.enabledCcIp).length;
      if (taken > 0) warnings.push(`cluster ${c.name} shares CC address ${c.enabledCcIp} with another cluster: registered as https://${c.enabledCcIp}:${ccPort + taken}/; correct it with \`edgenet cluster update\``);
      clusters.push({ name: c.name, ccIp: c.enabledCcIp, ccUrl: `https://${c.enabledCcIp}:${ccPort + taken}/` });
    }
    for (const n of c.nodes) {
      nodes.push({ cluster: c.name, name: n.name, ncUrl: `https://${n.name}:${ncPort}/` });
      for (const id of n.instanceIds) {
        const before = placement.get(id);
        if (before !== undefined) inconsistent(`instance ${id} is listed on node ${before.node} (${before.cluster}) and on node ${n.name} (${c.name})`);
        else placement.set(id, { cluster: c.name, node: n.name, macPrefix: c.macPrefix, ipv6Only });
      }
    }
  }

  const groupIds = new Set(doc.securityGroups.map((g) => g.name));
  const groups: ImportGroup[] = [];
  const peersOnly = new Map<string, string>();
  for (const g of doc.securityGroups) {
    if (!GROUP_ID.test(g.name)) unsupported(`security group id ${JSON.stringify(g.name)}: edgenet keeps ids of the form sg-xxxxxxxx (8 lowercase hex digits)`);
    if (!ACCOUNT.test(g.ownerId)) unsupported(`owner ${JSON.stringify(g.ownerId)} of ${g.name}: an account is 12 digits`);
    const seen = new Set<string>();
    const rules: SnapshotRule[] = [];
    const ipv6 = groupIpv6Rules(g);
    for (const text of ipv6.unreadable) warnings.push(`${g.name}: an ipv6 rule string that does not read is left out (${JSON.stringify(text)})`);
    const listed = [
      ...g.ingressRules.map((r) => ({ r, list: 'ingressRules' as const })),
      ...ipv6.rules.map((r) => ({ r, list: 'ipv6' as const })),
    ];
    for (const { r, list } of listed) {
      const refusal = checkRule(r);
      if (refusal !== undefined) {
        warnings.push(`${g.name}: a rule netd does not lay down is left out (${refusal.code}: ${refusal.message})`);
        continue;
      }
      if (ruleDocumentPlace(r) !== list) {
        warnings.push(`${g.name}: a rule in the other family's list is left out (netd does not lay it down: ${list === 'ipv6' ? 'an IPv4 or both-family rule in the ipv6 extension' : 'an IPv6-only rule in ingressRules'})`);
        continue;
      }
      const rule = snapshotRule(r);
      const key = JSON.stringify(rule);
      if (seen.has(key)) {
        warnings.push(`${g.name}: a rule listed twice is stored once (${key})`);
        continue;
      }
      seen.add(key);
      if (rule.sourceGroupId !== undefined && !groupIds.has(rule.sourceGroupId) && !peersOnly.has(rule.sourceGroupId)) {
        peersOnly.set(rule.sourceGroupId, rule.sourceGroupOwnerId ?? g.ownerId);
      }
      rules.push(rule);
    }
    groups.push({ id: g.name, ownerId: g.ownerId, name: `${IMPORTED_GROUP_PREFIX}${g.name}`, description: IMPORTED_GROUP_DESCRIPTION, rules });
  }
  // A group a rule names but the document does not carry (4.0 documents list only the groups of
  // running instances) exists in the cloud with no running member: it is created without rules,
  // so the rule stays and the CLC's documents carry the group as a peer (an empty ipset on nodes,
  // exactly what netd lays down for the name today).
  for (const [id, ownerId] of peersOnly) {
    if (!GROUP_ID.test(id)) unsupported(`security group id ${JSON.stringify(id)} (named by a rule): edgenet keeps ids of the form sg-xxxxxxxx (8 lowercase hex digits)`);
    if (!ACCOUNT.test(ownerId)) unsupported(`owner ${JSON.stringify(ownerId)} of ${id} (named by a rule): an account is 12 digits`);
    warnings.push(`group ${id} (account ${ownerId}) is named by a rule but not carried by the document: created without rules`);
    groups.push({ id, ownerId, name: `${IMPORTED_GROUP_PREFIX}${id}`, description: IMPORTED_PEER_DESCRIPTION, rules: [] });
  }
  const groupOwner = new Map(doc.securityGroups.map((g) => [g.name, g.ownerId]));

  const instances: ImportInstance[] = [];
  const addresses: ImportAddress[] = [];
  const macs = new Map<string, string>();
  const privates = new Map<string, string>();
  const publics = new Map<string, string>();
  for (const i of doc.instances) {
    if (!INSTANCE_ID.test(i.name)) unsupported(`instance id ${JSON.stringify(i.name)}: edgenet keeps ids of the form i-xxxxxxxx (8 lowercase hex digits)`);
    if (!ACCOUNT.test(i.ownerId)) unsupported(`owner ${JSON.stringify(i.ownerId)} of ${i.name}: an account is 12 digits`);
    const where = placement.get(i.name);
    if (where === undefined) {
      inconsistent(`instance ${i.name} is on no node of the document: the CLC places every instance it carries on a registered node`);
      continue;
    }
    const present = i.securityGroups.filter((id) => groupIds.has(id));
    const absent = i.securityGroups.filter((id) => !groupIds.has(id));
    if (present.length === 0) {
      inconsistent(`instance ${i.name}: none of its groups (${i.securityGroups.join(', ') || 'none'}) is in the document`);
      continue;
    }
    if (absent.length > 0) warnings.push(`instance ${i.name}: groups ${absent.join(', ')} are not in the document and are left out`);
    for (const id of present) {
      if (groupOwner.get(id) !== i.ownerId) warnings.push(`instance ${i.name} (account ${i.ownerId}) is in group ${id} of account ${groupOwner.get(id)}; kept as given`);
    }
    // The document model lets only an IPv6-only ROUTED cluster's instance go without IPv4 (validate.ts
    // allows it in ROUTED, netd refuses it elsewhere: INSTANCE_NO_PRIVATE_IP, ROUTED_IPV4_MISSING), and
    // the CLC gives such an instance none (it has no IPv4 pool): the rest could not come back as it is.
    if (i.privateIp === undefined && !where.ipv6Only) {
      inconsistent(`instance ${i.name} has no privateIp (only an instance of an IPv6-only ROUTED cluster may lack one; ${where.cluster} is not one)`);
      continue;
    }
    if (i.privateIp !== undefined && where.ipv6Only) {
      inconsistent(`instance ${i.name} has privateIp ${i.privateIp} in IPv6-only ROUTED cluster ${where.cluster}: its instances have no IPv4 address (it has no IPv4 pool)`);
      continue;
    }
    const userData = importedUserData(doc, i, warnings);
    if (!userData.ok) {
      problems.push({ code: 'IMPORT_INVALID_USER_DATA', message: `instance ${i.name}: its user data (routed extension user-data) is refused as the API refuses it: ${userData.message}` });
      continue;
    }
    const mac = i.macAddress ?? macFor(where.macPrefix, i.name);
    if (i.macAddress === undefined) warnings.push(`instance ${i.name} has no macAddress: given ${mac} (cluster MacPrefix + id, as Eucalyptus makes them)`);
    const macUser = macs.get(mac);
    if (macUser !== undefined) inconsistent(`instances ${macUser} and ${i.name} have the same MAC ${mac}`);
    macs.set(mac, i.name);
    if (i.privateIp !== undefined) {
      const ipUser = privates.get(i.privateIp);
      if (ipUser !== undefined) inconsistent(`instances ${ipUser} and ${i.name} have the same private IP ${i.privateIp}`);
      privates.set(i.privateIp, i.name);
    }
    instances.push({
      id: i.name,
      ownerId: i.ownerId,
      cluster: where.cluster,
      node: where.node,
      mac,
      ...(i.privateIp !== undefined ? { privateIp: i.privateIp } : {}),
      groups: present,
      ...(userData.value !== undefined ? { userData: userData.value } : {}),
    });
    const pub = i.publicIp;
    if (pub !== undefined && pub !== '' && pub !== '0.0.0.0' && pub !== i.privateIp) {
      const pubUser = publics.get(pub);
      if (pubUser !== undefined) inconsistent(`instances ${pubUser} and ${i.name} have the same public IP ${pub}`);
      else addresses.push({ ip: pub, ownerId: i.ownerId, instanceId: i.name });
      publics.set(pub, i.name);
    }
  }
  for (const id of placement.keys()) {
    if (!doc.instances.some((i) => i.name === id)) warnings.push(`node lists instance ${id}, which the document does not carry; left out`);
  }

  let propertyText: string;
  let notReconstructed: readonly string[] = [];
  let propertyGaps: readonly string[] = [];
  if (options.propertyText !== undefined) {
    propertyText = options.propertyText;
  } else {
    const rebuilt = reconstructProperty(conf);
    propertyText = `${JSON.stringify(rebuilt.value, null, 2)}\n`;
    notReconstructed = rebuilt.lost;
    propertyGaps = rebuilt.gaps;
  }

  if (problems.length > 0) throw importRefusal(problems);
  const owners = new Set([...groups.map((g) => g.ownerId), ...instances.map((i) => i.ownerId), ...addresses.map((a) => a.ownerId)]);
  owners.delete(ADMIN_ACCOUNT_ID);
  return {
    propertyText,
    propertySource: options.propertyText !== undefined ? 'file' : 'document',
    notReconstructed,
    propertyGaps,
    ...(conf.enabledClcIp !== undefined ? { clcIp: conf.enabledClcIp } : {}),
    ...(configurationIpv6(conf) !== undefined ? { clcIpv6: configurationIpv6(conf) as string } : {}),
    clusters,
    nodes,
    groups,
    instances: instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    addresses,
    accounts: [...owners].sort().map((id) => ({ id, name: `account-${id}` })),
    warnings,
  };
}

/** A ROUTED document's cluster whose addressing is IPv6-only: the one place an instance has no private IP. */
function isIpv6OnlyCluster(doc: GniDocument, c: GniCluster): boolean {
  return doc.configuration.mode === 'ROUTED' && clusterRoutedAddressing(c) === 'ipv6';
}

type ImportedUserData = { readonly ok: true; readonly value?: string } | { readonly ok: false; readonly message: string };

/**
 * The instance's user data as the CLC stores it: the API's check and
 * canonical base64 (args.ts userDataArgument), so an import stores nothing a
 * RunInstances could not have. Only ROUTED documents carry it (the CLC writes
 * the `routed` extension in ROUTED alone); one in another mode's document is
 * left out with a warning, as no node there reads it.
 */
function importedUserData(doc: GniDocument, i: GniInstance, warnings: string[]): ImportedUserData {
  const text = instanceUserData(i);
  if (text === undefined) return { ok: true };
  if (doc.configuration.mode !== 'ROUTED') {
    warnings.push(`instance ${i.name}: user data in the routed extension is left out (an ${doc.configuration.mode ?? 'EDGE'} document does not carry it; only ROUTED does)`);
    return { ok: true };
  }
  let value: string | undefined;
  try {
    value = userDataArgument(text);
  } catch (err) {
    if (err instanceof UserError) return { ok: false, message: err.message };
    throw err;
  }
  if (value !== undefined && value !== text) warnings.push(`instance ${i.name}: user data stored in canonical base64 (padded, one line), as the API stores it`);
  return { ok: true, ...(value !== undefined ? { value } : {}) };
}

/** One error for every problem: the first one's code, up to five messages, all of them in `details`. */
export function importRefusal(problems: readonly Problem[]): UserError {
  const head = problems.slice(0, 5).map((p) => p.message).join('; ');
  const more = problems.length > 5 ? ` (+${problems.length - 5} more)` : '';
  return new UserError(problems[0]!.code, `the document cannot be imported: ${head}${more}`, { details: { problems } });
}

function snapshotRule(r: GniRule): SnapshotRule {
  return {
    protocol: r.protocol,
    ...(r.fromPort !== undefined ? { fromPort: r.fromPort } : {}),
    ...(r.toPort !== undefined ? { toPort: r.toPort } : {}),
    // The store keeps icmp type and code as a pair; netd reads a missing one as -1 (filter.ts protocolPart).
    // ICMPv6 too, on IPv6 rules; a protocol-58 rule with an IPv4 CIDR is a plain protocol rule (pre-IPv6).
    ...(r.protocol === 1 || (r.protocol === ICMPV6_PROTOCOL && !(r.cidr !== undefined && r.cidr !== '' && !r.cidr.includes(':')))
      ? { icmpType: r.icmpType ?? -1, icmpCode: r.icmpCode ?? -1 }
      : {}),
    ...(r.groupId !== undefined
      ? { sourceGroupId: r.groupId, ...(r.groupOwnerId !== undefined ? { sourceGroupOwnerId: r.groupOwnerId } : {}) }
      : r.cidr !== undefined
        ? { cidr: r.cidr.includes(':') ? canonicalIpv6Cidr(r.cidr) : r.cidr }
        : {}),
  };
}

/**
 * An IPv6 source in the API's spelling (RFC 5952, `/128` for a bare address),
 * so the stored key is the one a revoke through the API computes
 * (services/permission.ts). checkRule has already read it.
 */
function canonicalIpv6Cidr(text: string): string {
  const cidr = parseIpCidr(text, 'ipv6') ?? parseIpCidr(`${text}/128`, 'ipv6');
  return cidr === undefined ? text : formatIpCidr(cidr);
}
