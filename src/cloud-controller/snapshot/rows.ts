/**
 * Database rows → snapshot elements: the one mapping the snapshot readers
 * (read-snapshot.ts) and the services' listings (an API view is a snapshot
 * element plus display fields) share, so the API and the broadcast document
 * can never describe the same row differently.
 *
 * Pure. It lives with the snapshot, not the services, so the snapshot
 * depends on db/ and the contracts only and services/ → snapshot/ stays one
 * way (the snapshot cache is owned by services/cloud-state.ts).
 */
import type { GroupRulesTable } from '../db/schema.ts';
import type { SnapshotInstance, SnapshotRule } from '../contracts.ts';

/** A stored rule row as the snapshot and the API carry it (ports and ICMP fields come in pairs). */
export function snapshotRuleOfRow(
  r: Pick<GroupRulesTable, 'protocol' | 'from_port' | 'to_port' | 'icmp_type' | 'icmp_code' | 'cidr' | 'source_group_id' | 'source_group_owner_id'>,
): SnapshotRule {
  return {
    protocol: r.protocol,
    ...(r.from_port !== null ? { fromPort: r.from_port, toPort: r.to_port! } : {}),
    ...(r.icmp_type !== null ? { icmpType: r.icmp_type, icmpCode: r.icmp_code! } : {}),
    ...(r.cidr !== null ? { cidr: r.cidr } : {}),
    ...(r.source_group_id !== null ? { sourceGroupId: r.source_group_id, ...(r.source_group_owner_id !== null ? { sourceGroupOwnerId: r.source_group_owner_id } : {}) } : {}),
  };
}

/**
 * An instance row (joined with its public address) as the snapshot and the API carry it.
 * `user_data` absent: not read (the API's listings leave it out; see services/instances.ts).
 */
export function snapshotInstanceOfRow(
  r: { id: string; owner_id: string; cluster: string; node: string; mac: string; private_ip: string | null; public_ip: string | null; user_data?: string | null },
  groups: readonly string[],
): SnapshotInstance {
  return {
    id: r.id,
    ownerId: r.owner_id,
    cluster: r.cluster,
    node: r.node,
    mac: r.mac,
    ...(r.private_ip !== null ? { privateIp: r.private_ip } : {}),
    ...(r.public_ip ? { publicIp: r.public_ip } : {}),
    groups,
    ...(r.user_data ? { userData: r.user_data } : {}),
  };
}
