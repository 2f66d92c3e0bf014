/**
 * The security group actions (issue 15): CreateSecurityGroup,
 * DeleteSecurityGroup, DescribeSecurityGroups, AuthorizeSecurityGroupIngress
 * and RevokeSecurityGroupIngress, as EC2-Classic had them.
 *
 * The handlers only translate: EC2 parameters become the admin API's inputs
 * (a group reference and owner, `PermissionInput`s) for the same CloudState
 * calls, and the services' views become EC2's response shapes. Every rule
 * check, default and error comes from the services (services/groups.ts,
 * services/permission.ts).
 *
 * Permissions come in two request forms. `IpPermissions.N.*` (the AWS CLI,
 * boto3 with IpPermissions=): one entry per protocol and port range with any
 * number of sources (`IpRanges.M.CidrIp`, `Ipv6Ranges.M.CidrIpv6`,
 * `Groups.M.GroupId|GroupName|UserId`), each source one stored rule. The
 * legacy flat form (boto3 with IpProtocol=/CidrIp=, euca2ools): one
 * permission from `IpProtocol`, `FromPort`, `ToPort` and `CidrIp` or
 * `SourceSecurityGroupName` (+ `SourceSecurityGroupOwnerId`); a flat
 * source-group permission without `IpProtocol` is EC2-Classic's "everything
 * from that group": tcp 0-65535, udp 0-65535 and icmp -1:-1. For icmp and
 * icmpv6, `FromPort` is the ICMP type and `ToPort` the code, as in EC2. An
 * entry without any source gets the services' default source (0.0.0.0/0,
 * ::/0 for icmpv6), as the admin API does.
 *
 * A tenant's source group by id must be its own or belong to the `UserId`
 * it gives; another account's group is named by `UserId` + `GroupName`
 * (`sourceScope`, enforced in the services).
 */
import { UserError } from '../../../shared/errors.ts';
import { API_PROTOCOL_NUMBERS, icmpProtocol } from '../../../shared/protocols.ts';
import { isGroupId, type GroupView, type RuleView } from '../../services/groups.ts';
import type { PermissionInput } from '../../services/permission.ts';
import type { Ec2Action, Ec2Request, XmlObject } from '../contract.ts';
import { applyFilters, type FilterTable } from '../filters.ts';
import { FILTER_PARAMS, filtersOf, integerParam, listParam, members, missing, requireOneOf, requireParam, type Params } from '../params.ts';
import { ownerScope } from './scope.ts';

const GROUP_REF = ['GroupName', 'GroupId'] as const;

/** A group named by `GroupName` or `GroupId` (exactly one), as the services take it. */
function groupRef(params: Params): string {
  const { name, value } = requireOneOf(params, GROUP_REF);
  if (name === 'GroupId') requireGroupIdShape(value);
  else if (isGroupId(value)) throw notFound(value);
  return value;
}

/** EC2 refuses a group id that is not `sg-` + hex before looking it up. */
export function requireGroupIdShape(value: string): void {
  if (!isGroupId(value)) throw new UserError('InvalidGroupId.Malformed', `Invalid id: "${value}" (expecting "sg-...")`);
}

/** A name that only looks like an id names no group (names never start with `sg-`). */
function notFound(ref: string): UserError {
  return new UserError('InvalidGroup.NotFound', `The security group '${ref}' does not exist`, { status: 404 });
}

const createSecurityGroup: Ec2Action = {
  name: 'CreateSecurityGroup',
  params: ['GroupName', 'GroupDescription'],
  async handle(req, { state }) {
    const group = await state.createGroup({
      name: requireParam(req.params, 'GroupName'),
      description: requireParam(req.params, 'GroupDescription'),
      owner: req.caller.accountId,
    });
    return { return: true, groupId: group.id };
  },
};

const deleteSecurityGroup: Ec2Action = {
  name: 'DeleteSecurityGroup',
  params: [...GROUP_REF],
  async handle(req, { state }) {
    await state.deleteGroup(groupRef(req.params), ownerScope(req.caller), { protectDefault: true });
    return { return: true };
  },
};

// Permissions: EC2 parameters → the services' PermissionInput.

const ICMP = new Set([icmpProtocol('ipv4'), icmpProtocol('ipv6')]);

function protocolNumberOf(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  return /^\d+$/.test(t) ? Number(t) : API_PROTOCOL_NUMBERS[t];
}

/** The protocol and its FromPort/ToPort: ports for most protocols, ICMP type and code for icmp and icmpv6. */
function protocolPart(protocol: string, from: number | undefined, to: number | undefined): PermissionInput {
  const number = protocolNumberOf(protocol);
  if (number !== undefined && ICMP.has(number)) {
    return { protocol, ...(from !== undefined ? { icmpType: from } : {}), ...(to !== undefined ? { icmpCode: to } : {}) };
  }
  return { protocol, ...(from !== undefined ? { fromPort: from } : {}), ...(to !== undefined ? { toPort: to } : {}) };
}

interface SourceGroupRef {
  readonly group: string;
  readonly account?: string;
}

function sourceGroupInput(ref: SourceGroupRef): PermissionInput {
  return { sourceGroup: ref.group, ...(ref.account !== undefined ? { sourceAccount: ref.account } : {}) };
}

/** `IpPermissions.N.*`: one PermissionInput per source of each entry. */
function ipPermissions(entries: readonly Params[]): PermissionInput[] {
  return entries.flatMap((entry, i) => {
    const at = `IpPermissions.${i + 1}`;
    const protocol = entry.get('IpProtocol');
    if (protocol === undefined || protocol === '') throw missing(`${at}.IpProtocol`);
    const head = protocolPart(protocol, integerParam(entry, 'FromPort'), integerParam(entry, 'ToPort'));
    const sources: PermissionInput[] = [
      ...ranges(entry, 'IpRanges', 'CidrIp', at).map((cidr) => ({ cidr })),
      ...ranges(entry, 'Ipv6Ranges', 'CidrIpv6', at).map((cidr) => ({ cidr })),
      ...members(entry, 'Groups').map((pair, j) => {
        const id = pair.get('GroupId');
        const name = pair.get('GroupName');
        if (id !== undefined) requireGroupIdShape(id);
        const group = id ?? name;
        if (group === undefined || group === '') throw missing(`${at}.Groups.${j + 1}.GroupId or GroupName`);
        const account = pair.get('UserId');
        return sourceGroupInput({ group, ...(account !== undefined ? { account } : {}) });
      }),
    ];
    return sources.length === 0 ? [head] : sources.map((source) => ({ ...head, ...source }));
  });
}

/** `IpRanges.M.CidrIp` (or `Ipv6Ranges.M.CidrIpv6`) of one entry, in index order. */
function ranges(entry: Params, list: string, field: string, at: string): string[] {
  return members(entry, list).map((range, m) => {
    const cidr = range.get(field);
    if (cidr === undefined) throw missing(`${at}.${list}.${m + 1}.${field}`);
    return cidr;
  });
}

/** The legacy flat form. */
function flatPermission(params: Params): PermissionInput[] {
  const protocol = params.get('IpProtocol');
  const from = integerParam(params, 'FromPort');
  const to = integerParam(params, 'ToPort');
  const cidr = params.get('CidrIp');
  const sourceName = params.get('SourceSecurityGroupName');
  const sourceOwner = params.get('SourceSecurityGroupOwnerId');
  const source: PermissionInput =
    sourceName !== undefined
      ? sourceGroupInput({ group: sourceName, ...(sourceOwner !== undefined ? { account: sourceOwner } : {}) })
      : sourceOwner !== undefined
        ? { sourceAccount: sourceOwner }
        : {};
  if (protocol === undefined || protocol === '') {
    // EC2-Classic: a source group alone grants every tcp and udp port and every icmp type from it.
    if (sourceName === undefined || cidr !== undefined || from !== undefined || to !== undefined) throw missing('IpProtocol');
    return [
      { protocol: 'tcp', fromPort: 0, toPort: 65535, ...source },
      { protocol: 'udp', fromPort: 0, toPort: 65535, ...source },
      { protocol: 'icmp', icmpType: -1, icmpCode: -1, ...source },
    ];
  }
  return [{ ...protocolPart(protocol, from, to), ...(cidr !== undefined ? { cidr } : {}), ...source }];
}

const FLAT_PARAMS = ['IpProtocol', 'FromPort', 'ToPort', 'CidrIp', 'SourceSecurityGroupName', 'SourceSecurityGroupOwnerId'] as const;
const PERMISSION_PARAMS = [
  'IpPermissions.N.IpProtocol',
  'IpPermissions.N.FromPort',
  'IpPermissions.N.ToPort',
  'IpPermissions.N.IpRanges.N.CidrIp',
  'IpPermissions.N.Ipv6Ranges.N.CidrIpv6',
  'IpPermissions.N.Groups.N.GroupId',
  'IpPermissions.N.Groups.N.GroupName',
  'IpPermissions.N.Groups.N.UserId',
] as const;

/** The permissions of an Authorize or Revoke request, in either form (not both). */
function permissionsOf(params: Params): PermissionInput[] {
  const entries = members(params, 'IpPermissions');
  const flat = FLAT_PARAMS.filter((p) => params.has(p));
  if (entries.length > 0 && flat.length > 0) {
    throw new UserError('InvalidParameterCombination', `The parameter IpPermissions cannot be used with ${flat.join(', ')}`);
  }
  if (entries.length > 0) return ipPermissions(entries);
  if (flat.length > 0) return flatPermission(params);
  throw new UserError('MissingParameter', 'The request must contain the parameter IpPermissions (or IpProtocol with CidrIp or SourceSecurityGroupName)');
}

function ruleChange(kind: 'authorize' | 'revoke'): Ec2Action {
  return {
    name: kind === 'authorize' ? 'AuthorizeSecurityGroupIngress' : 'RevokeSecurityGroupIngress',
    params: [...GROUP_REF, ...FLAT_PARAMS, ...PERMISSION_PARAMS],
    async handle(req, { state }) {
      const ref = groupRef(req.params);
      const body = { permissions: permissionsOf(req.params) };
      const scope = ownerScope(req.caller);
      const options = scope === undefined ? {} : { sourceScope: scope };
      // EC2 refuses a rule the group already has (InvalidPermission.Duplicate); the admin API adds the rest.
      if (kind === 'authorize') await state.authorize(ref, scope, body, { ...options, refuseExisting: true });
      else await state.revoke(ref, scope, body, options);
      return { return: true };
    },
  };
}

// DescribeSecurityGroups.

/** One IpPermission item, keys in EC2's order (an undefined port is left out of the XML). */
type PermissionItem = {
  readonly ipProtocol: string;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly groups: XmlObject[];
  readonly ipRanges: XmlObject[];
  readonly ipv6Ranges: XmlObject[];
  readonly prefixListIds: XmlObject[];
};

/**
 * EC2's IpPermission items: rules with one protocol and port range share an
 * item, in stored order. Each item is made once in its final shape (no
 * copies): a describe makes one per protocol and range of every group.
 */
function ipPermissionItems(rules: readonly RuleView[]): XmlObject[] {
  const items: PermissionItem[] = [];
  const byRange = new Map<string, PermissionItem>();
  for (const rule of rules) {
    const from = rule.fromPort ?? rule.icmpType;
    const to = rule.toPort ?? rule.icmpCode;
    const key = `${rule.protocolName}|${from ?? ''}|${to ?? ''}`;
    let item = byRange.get(key);
    if (item === undefined) {
      item = { ipProtocol: rule.protocolName, fromPort: from, toPort: to, groups: [], ipRanges: [], ipv6Ranges: [], prefixListIds: [] };
      byRange.set(key, item);
      items.push(item);
    }
    const cidr = rule.cidr;
    if (cidr !== undefined) {
      if (cidr.includes(':')) item.ipv6Ranges.push({ cidrIpv6: cidr });
      else item.ipRanges.push({ cidrIp: cidr });
    } else {
      item.groups.push({ userId: rule.sourceGroupOwnerId, groupId: rule.sourceGroupId, groupName: rule.sourceGroupName });
    }
  }
  return items;
}

function securityGroupItem(g: GroupView): XmlObject {
  return {
    ownerId: g.ownerId,
    groupId: g.id,
    groupName: g.name,
    groupDescription: g.description,
    ipPermissions: ipPermissionItems(g.rules),
    // EC2-Classic groups have no egress rules.
    ipPermissionsEgress: [],
  };
}

const cidrs = (g: GroupView, v6: boolean) => g.rules.flatMap((r) => (r.cidr !== undefined && r.cidr.includes(':') === v6 ? [r.cidr] : []));

const GROUP_FILTERS: FilterTable<GroupView> = {
  'group-name': (g) => g.name,
  'group-id': (g) => g.id,
  description: (g) => g.description,
  'owner-id': (g) => g.ownerId,
  // By EC2's name and by number (`tcp` and `6`).
  'ip-permission.protocol': (g) => g.rules.flatMap((r) => [r.protocolName, String(r.protocol)]),
  'ip-permission.from-port': (g) => g.rules.map((r) => r.fromPort ?? r.icmpType),
  'ip-permission.to-port': (g) => g.rules.map((r) => r.toPort ?? r.icmpCode),
  'ip-permission.cidr': (g) => cidrs(g, false),
  'ip-permission.ipv6-cidr': (g) => cidrs(g, true),
  'ip-permission.group-id': (g) => g.rules.map((r) => r.sourceGroupId),
  'ip-permission.group-name': (g) => g.rules.map((r) => r.sourceGroupName),
  'ip-permission.user-id': (g) => g.rules.map((r) => r.sourceGroupOwnerId),
};

const describeSecurityGroups: Ec2Action = {
  name: 'DescribeSecurityGroups',
  params: ['GroupName.N', 'GroupId.N', ...FILTER_PARAMS],
  async handle(req: Ec2Request, { state }) {
    const filters = filtersOf(req.params);
    const names = listParam(req.params, 'GroupName');
    const ids = listParam(req.params, 'GroupId');
    ids.forEach(requireGroupIdShape);
    for (const name of names) if (isGroupId(name)) throw notFound(name);
    const scope = ownerScope(req.caller);
    let groups: readonly GroupView[];
    if (names.length === 0 && ids.length === 0) {
      groups = await state.listGroups(scope);
    } else {
      // Each named group must exist for the caller (InvalidGroup.NotFound from the services otherwise).
      const wanted = new Map<string, GroupView>();
      for (const ref of [...ids, ...names]) {
        const g = await state.getGroup(ref, scope);
        wanted.set(g.id, g);
      }
      groups = [...wanted.values()];
    }
    return { securityGroupInfo: applyFilters(groups, filters, GROUP_FILTERS).map(securityGroupItem) };
  },
};

export const GROUP_ACTIONS: readonly Ec2Action[] = [
  createSecurityGroup,
  deleteSecurityGroup,
  describeSecurityGroups,
  ruleChange('authorize'),
  ruleChange('revoke'),
];
