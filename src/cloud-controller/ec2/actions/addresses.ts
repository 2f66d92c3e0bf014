/**
 * The address actions (issue 15): AllocateAddress, ReleaseAddress,
 * AssociateAddress, DisassociateAddress and DescribeAddresses, as
 * EC2-Classic's elastic IPs (domain `standard`), on the same CloudState calls
 * as the admin API's `address` commands.
 *
 * Classic names an address by its `PublicIp`. Clients written for VPC use
 * ids, so each address also answers to an allocation id and, while
 * associated, an association id, both derived rather than stored:
 * `eipalloc-` + the address's 8 hex digits (192.0.2.10 → eipalloc-c000020a),
 * and `eipassoc-` + those 8 + the instance id's 8 (so an association id
 * stops naming the address once it is associated elsewhere). An id that
 * does not decode, or decodes to no address of the caller, is
 * InvalidAllocationID.NotFound / InvalidAssociationID.NotFound.
 *
 * An exhausted public pool is AddressLimitExceeded over EC2, as AWS answers
 * (ec2/errors.ts maps the services' ADDRESS_POOL_EXHAUSTED).
 */
import { UserError } from '../../../shared/errors.ts';
import { formatIp, parseIp } from '../../../shared/ip.ts';
import type { AddressView } from '../../services/addresses.ts';
import type { Ec2Action, XmlObject } from '../contract.ts';
import { applyFilters, type FilterTable } from '../filters.ts';
import { booleanParam, FILTER_PARAMS, filtersOf, listParam, requireOneOf, requireParam, type Params } from '../params.ts';
import { ownerScope } from './scope.ts';
import { requireInstanceIdShape } from './instances.ts';

const DOMAIN = 'standard';

function hex8(ip: string): string {
  const n = parseIp(ip);
  if (n === undefined) throw new UserError('InternalError', `not an IPv4 address: ${ip}`, { status: 500 });
  return n.toString(16).padStart(8, '0');
}

function allocationId(ip: string): string {
  return `eipalloc-${hex8(ip)}`;
}

function associationId(ip: string, instanceId: string): string {
  return `eipassoc-${hex8(ip)}${instanceId.slice(2)}`;
}

function ipOfHex(hex: string): string {
  return formatIp(parseInt(hex, 16) >>> 0);
}

function allocationNotFound(id: string): UserError {
  return new UserError('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`, { status: 404 });
}

function associationNotFound(id: string): UserError {
  return new UserError('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`, { status: 404 });
}

/** The address an allocation id names (its own spelling: `eipalloc-` + 8 lowercase hex). */
function ipOfAllocation(id: string): string {
  const m = /^eipalloc-([0-9a-f]{8})$/.exec(id);
  if (m === null) throw allocationNotFound(id);
  return ipOfHex(m[1]!);
}

/** `PublicIp` or `AllocationId` (exactly one): the address; a not-found from the services names the id given. */
async function withAddress<T>(params: Params, act: (ip: string) => Promise<T>): Promise<T> {
  const { name, value } = requireOneOf(params, ['PublicIp', 'AllocationId']);
  if (name === 'PublicIp') return act(value);
  try {
    return await act(ipOfAllocation(value));
  } catch (err) {
    if (err instanceof UserError && err.code === 'InvalidAddress.NotFound') throw allocationNotFound(value);
    throw err;
  }
}

function addressItem(a: AddressView): XmlObject {
  return {
    publicIp: a.ip,
    allocationId: allocationId(a.ip),
    domain: DOMAIN,
    instanceId: a.instanceId,
    associationId: a.instanceId !== undefined ? associationId(a.ip, a.instanceId) : undefined,
  };
}

const allocateAddress: Ec2Action = {
  name: 'AllocateAddress',
  params: ['Domain', 'Address'],
  async handle(req, { state }) {
    const domain = req.params.get('Domain');
    if (domain !== undefined && domain !== DOMAIN) {
      throw new UserError('InvalidParameterValue', `Invalid value '${domain}' for Domain: edgenet has EC2-Classic addresses only (standard)`);
    }
    const address = req.params.get('Address');
    const a = await state.allocateAddress({ owner: req.caller.accountId, ...(address !== undefined ? { ip: address } : {}) });
    return { publicIp: a.ip, domain: DOMAIN, allocationId: allocationId(a.ip) };
  },
};

const releaseAddress: Ec2Action = {
  name: 'ReleaseAddress',
  params: ['PublicIp', 'AllocationId'],
  async handle(req, { state }) {
    const owner = ownerScope(req.caller);
    await withAddress(req.params, (ip) => state.releaseAddress({ ip, ...(owner !== undefined ? { owner } : {}) }));
    return { return: true };
  },
};

const associateAddress: Ec2Action = {
  name: 'AssociateAddress',
  // AllowReassociation: EC2-Classic always moves an associated address (and the services do), so true and false both do.
  params: ['InstanceId', 'PublicIp', 'AllocationId', 'AllowReassociation'],
  async handle(req, { state }) {
    const instance = requireParam(req.params, 'InstanceId');
    requireInstanceIdShape(instance);
    booleanParam(req.params, 'AllowReassociation');
    const owner = ownerScope(req.caller);
    const a = await withAddress(req.params, (ip) => state.associateAddress({ ip, instance, ...(owner !== undefined ? { owner } : {}) }));
    return { return: true, associationId: associationId(a.ip, instance) };
  },
};

const disassociateAddress: Ec2Action = {
  name: 'DisassociateAddress',
  params: ['PublicIp', 'AssociationId'],
  async handle(req, { state }) {
    const owner = ownerScope(req.caller);
    const { name, value } = requireOneOf(req.params, ['PublicIp', 'AssociationId']);
    if (name === 'PublicIp') {
      await state.disassociateAddress({ ip: value, ...(owner !== undefined ? { owner } : {}) });
      return { return: true };
    }
    const m = /^eipassoc-([0-9a-f]{8})([0-9a-f]{8})$/.exec(value);
    if (m === null) throw associationNotFound(value);
    const ip = ipOfHex(m[1]!);
    // The association id names the address only while it is associated with that instance.
    const current = (await state.listAddresses(owner)).find((a) => a.ip === ip);
    if (current?.instanceId !== `i-${m[2]}`) throw associationNotFound(value);
    await state.disassociateAddress({ ip, ...(owner !== undefined ? { owner } : {}) });
    return { return: true };
  },
};

const ADDRESS_FILTERS: FilterTable<AddressView> = {
  'public-ip': (a) => a.ip,
  'allocation-id': (a) => allocationId(a.ip),
  'association-id': (a) => (a.instanceId !== undefined ? associationId(a.ip, a.instanceId) : undefined),
  'instance-id': (a) => a.instanceId,
  domain: () => DOMAIN,
};

const describeAddresses: Ec2Action = {
  name: 'DescribeAddresses',
  params: ['PublicIp.N', 'AllocationId.N', ...FILTER_PARAMS],
  async handle(req, { state }) {
    const filters = filtersOf(req.params);
    const ips = listParam(req.params, 'PublicIp');
    const allocations = listParam(req.params, 'AllocationId');
    let addresses = await state.listAddresses(ownerScope(req.caller));
    if (ips.length > 0 || allocations.length > 0) {
      const byIp = new Map(addresses.map((a) => [a.ip, a]));
      const wanted = new Map<string, AddressView>();
      for (const ip of ips) {
        const a = byIp.get(ip);
        if (a === undefined) throw new UserError('InvalidAddress.NotFound', `Address '${ip}' not found.`, { status: 404 });
        wanted.set(a.ip, a);
      }
      for (const id of allocations) {
        const a = /^eipalloc-[0-9a-f]{8}$/.test(id) ? byIp.get(ipOfAllocation(id)) : undefined;
        if (a === undefined) throw allocationNotFound(id);
        wanted.set(a.ip, a);
      }
      addresses = [...wanted.values()];
    }
    return { addressesSet: applyFilters(addresses, filters, ADDRESS_FILTERS).map(addressItem) };
  },
};

export const ADDRESS_ACTIONS: readonly Ec2Action[] = [allocateAddress, releaseAddress, associateAddress, disassociateAddress, describeAddresses];
