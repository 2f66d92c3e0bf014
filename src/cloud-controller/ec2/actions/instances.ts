/**
 * The instance actions (issue 15): DescribeInstances for the networking view
 * (private and public address, MAC, IPv6 on dual-stack clusters, groups,
 * placement), and RunInstances / TerminateInstances, which create and remove
 * instance records through the same CloudState calls as the admin API's
 * `instance run|terminate`. edgenet is not a compute service: those two are
 * served only where the cloud says edgenet makes the records
 * (`cloud.ec2.run_instances=true`, as the lab does), else UnsupportedOperation.
 *
 * Shapes: every instance is its own reservation (`r-` + the instance id's
 * hex), since edgenet records no launch requests; it is always `running`
 * (code 16) while it exists; its zone is its cluster and `placement.hostId`
 * its node (a node's name, which RunInstances takes back as
 * `Placement.HostId`); the MAC is in its one network interface.
 *
 * An instance of an IPv6-only ROUTED cluster has no private IPv4 address:
 * `privateIpAddress` is left out (as EC2 does for an IPv6-only subnet's
 * instance) and `ipv6Address` carries its address.
 *
 * RunInstances: `ImageId` is required, as EC2 requires it, and ignored;
 * `UserData` is base64 as EC2 takes it, at most 16 KiB decoded, checked
 * before anything is made (InvalidParameterValue, EC2's code and wording),
 * stored with each instance made (metadata `user-data`, ROUTED config drive);
 * `MinCount`..`MaxCount` (1..20) instances are made one after another, each
 * a transaction of its own; when fewer than `MinCount` could be made, those
 * made are terminated again and the error that stopped the run is answered
 * (InsufficientInstanceCapacity for a full cluster, ec2/errors.ts).
 */
import { UserError } from '../../../shared/errors.ts';
import type { InstanceView } from '../../services/instances.ts';
import type { GroupView } from '../../services/groups.ts';
import { requireGroupIdShape } from './groups.ts';
import { userDataArgument } from '../../services/args.ts';
import type { Ec2Action, Ec2Request, XmlObject } from '../contract.ts';
import type { CloudState } from '../../services/cloud-state.ts';
import { applyFilters, type FilterTable } from '../filters.ts';
import { FILTER_PARAMS, filtersOf, integerParam, listParam, requireParam } from '../params.ts';
import { ownerScope } from './scope.ts';

const INSTANCE_ID = /^i-[0-9a-f]{8}$/;
const RUNNING = { code: 16, name: 'running' } as const;
const TERMINATED = { code: 48, name: 'terminated' } as const;
const MAX_COUNT = 20;

export function requireInstanceIdShape(id: string): void {
  if (!INSTANCE_ID.test(id)) throw new UserError('InvalidInstanceID.Malformed', `Invalid id: "${id}" (expecting "i-...")`);
}

function instanceIds(req: Ec2Request, required: boolean): string[] {
  const ids = listParam(req.params, 'InstanceId');
  if (required && ids.length === 0) throw new UserError('MissingParameter', 'The request must contain the parameter InstanceId.1');
  ids.forEach(requireInstanceIdShape);
  return ids;
}

function notFound(ids: readonly string[]): UserError {
  const list = ids.join(', ');
  return new UserError('InvalidInstanceID.NotFound', ids.length === 1 ? `The instance ID '${list}' does not exist` : `The instance IDs '${list}' do not exist`, { status: 404 });
}

async function requireRunInstances(state: CloudState): Promise<void> {
  if (!(await state.ec2RunInstancesEnabled())) {
    throw new UserError('UnsupportedOperation', 'edgenet makes no instance records over EC2 on this cloud (cloud.ec2.run_instances is false): instances are created by the compute service');
  }
}

/** Group id → group, for the names in groupSet. */
type GroupNames = ReadonlyMap<string, string>;

function groupSet(ids: readonly string[], names: GroupNames): XmlObject[] {
  return ids.map((groupId) => ({ groupId, groupName: names.get(groupId) }));
}

function instanceItem(i: InstanceView, names: GroupNames, state: { readonly code: number; readonly name: string } = RUNNING): XmlObject {
  const groups = groupSet(i.groups, names);
  return {
    instanceId: i.id,
    instanceState: { code: state.code, name: state.name },
    launchTime: i.createdAt,
    placement: { availabilityZone: i.cluster, hostId: i.node, tenancy: 'default' },
    privateIpAddress: i.privateIp,
    ipAddress: i.publicIp,
    groupSet: groups,
    networkInterfaceSet: [
      {
        status: 'in-use',
        ownerId: i.ownerId,
        macAddress: i.mac,
        privateIpAddress: i.privateIp,
        association: i.publicIp !== undefined ? { publicIp: i.publicIp, ipOwnerId: i.ownerId } : undefined,
        groupSet: groups,
        ipv6AddressesSet: i.ipv6 !== undefined ? [{ ipv6Address: i.ipv6 }] : [],
      },
    ],
    ipv6Address: i.ipv6,
  };
}

/** One reservation per instance (edgenet records no launch requests). */
function reservationItem(i: InstanceView, names: GroupNames): XmlObject {
  return {
    reservationId: `r-${i.id.slice(2)}`,
    ownerId: i.ownerId,
    groupSet: groupSet(i.groups, names),
    instancesSet: [instanceItem(i, names)],
  };
}

async function groupNames(state: CloudState, owner: string | undefined): Promise<GroupNames> {
  const groups: readonly GroupView[] = await state.listGroups(owner);
  return new Map(groups.map((g) => [g.id, g.name]));
}

function instanceFilters(names: GroupNames): FilterTable<InstanceView> {
  const groupNamesOf = (i: InstanceView) => i.groups.map((g) => names.get(g));
  return {
    'instance-id': (i) => i.id,
    'instance-state-name': () => RUNNING.name,
    'instance-state-code': () => RUNNING.code,
    'reservation-id': (i) => `r-${i.id.slice(2)}`,
    'owner-id': (i) => i.ownerId,
    'availability-zone': (i) => i.cluster,
    'host-id': (i) => i.node,
    'private-ip-address': (i) => i.privateIp,
    'ip-address': (i) => i.publicIp,
    'ipv6-address': (i) => i.ipv6,
    'group-id': (i) => i.groups,
    'group-name': groupNamesOf,
    'instance.group-id': (i) => i.groups,
    'instance.group-name': groupNamesOf,
    'network-interface.mac-address': (i) => i.mac,
    'network-interface.addresses.private-ip-address': (i) => i.privateIp,
    'network-interface.ipv6-addresses.ipv6-address': (i) => i.ipv6,
    'network-interface.association.public-ip': (i) => i.publicIp,
  };
}

const describeInstances: Ec2Action = {
  name: 'DescribeInstances',
  params: ['InstanceId.N', ...FILTER_PARAMS],
  async handle(req, { state }) {
    const filters = filtersOf(req.params);
    const ids = instanceIds(req, false);
    const owner = ownerScope(req.caller);
    const instances = await state.listInstances({ ...(owner !== undefined ? { owner } : {}), ...(ids.length > 0 ? { ids } : {}) });
    const missing = ids.filter((id) => !instances.some((i) => i.id === id));
    if (missing.length > 0) throw notFound(missing);
    const names = await groupNames(state, owner);
    return { reservationSet: applyFilters(instances, filters, instanceFilters(names)).map((i) => reservationItem(i, names)) };
  },
};

const runInstances: Ec2Action = {
  name: 'RunInstances',
  // ClientToken: the AWS CLI and boto3 always send one; accepted, not remembered (no idempotent retry: see docs/ec2-api.md).
  params: ['ImageId', 'MinCount', 'MaxCount', 'Placement.AvailabilityZone', 'Placement.HostId', 'SecurityGroup.N', 'SecurityGroupId.N', 'PrivateIpAddress', 'UserData', 'ClientToken'],
  async handle(req, { state }) {
    requireParam(req.params, 'ImageId');
    const min = integerParam(req.params, 'MinCount');
    const max = integerParam(req.params, 'MaxCount');
    if (min === undefined) throw new UserError('MissingParameter', 'The request must contain the parameter MinCount');
    if (max === undefined) throw new UserError('MissingParameter', 'The request must contain the parameter MaxCount');
    if (min < 1 || max > MAX_COUNT || min > max) {
      throw new UserError('InvalidParameterValue', `MinCount and MaxCount must satisfy 1 <= MinCount <= MaxCount <= ${MAX_COUNT}, got ${min} and ${max}`);
    }
    const ids = listParam(req.params, 'SecurityGroupId');
    ids.forEach(requireGroupIdShape);
    const named = listParam(req.params, 'SecurityGroup');
    const groups = ids.length + named.length > 0 ? [...ids, ...named] : ['default'];
    const privateIp = req.params.get('PrivateIpAddress');
    if (privateIp !== undefined && max > 1) {
      throw new UserError('InvalidParameterCombination', 'PrivateIpAddress names one address: it cannot be used with MaxCount above 1');
    }
    const userData = userDataArgument(req.params.get('UserData'));
    await requireRunInstances(state);
    const cluster = req.params.get('Placement.AvailabilityZone');
    const node = req.params.get('Placement.HostId');
    const input = {
      owner: req.caller.accountId,
      groups,
      ...(cluster !== undefined ? { cluster } : {}),
      ...(node !== undefined ? { node } : {}),
      ...(privateIp !== undefined ? { privateIp } : {}),
      ...(userData !== undefined ? { userData } : {}),
    };
    const made: InstanceView[] = [];
    try {
      while (made.length < max) made.push(await state.runInstance(input));
    } catch (err) {
      if (made.length < min) {
        for (const i of made) await state.terminateInstance(i.id, req.caller.accountId);
        throw err;
      }
    }
    const names = await groupNames(state, req.caller.accountId);
    return {
      reservationId: `r-${made[0]!.id.slice(2)}`,
      ownerId: req.caller.accountId,
      groupSet: groupSet(made[0]!.groups, names),
      instancesSet: made.map((i) => instanceItem(i, names)),
    };
  },
};

const terminateInstances: Ec2Action = {
  name: 'TerminateInstances',
  params: ['InstanceId.N'],
  async handle(req, { state }) {
    const ids = instanceIds(req, true);
    await requireRunInstances(state);
    const owner = ownerScope(req.caller);
    // All or nothing as far as existence goes: every id is checked before any is terminated.
    const found = await state.listInstances({ ...(owner !== undefined ? { owner } : {}), ids });
    const missing = ids.filter((id) => !found.some((i) => i.id === id));
    if (missing.length > 0) throw notFound(missing);
    const changes: XmlObject[] = [];
    for (const id of new Set(ids)) {
      await state.terminateInstance(id, owner);
      changes.push({ instanceId: id, currentState: { ...TERMINATED }, previousState: { ...RUNNING } });
    }
    return { instancesSet: changes };
  },
};

export const INSTANCE_ACTIONS: readonly Ec2Action[] = [describeInstances, runInstances, terminateInstances];
