/**
 * The CLC's own admin API routes (plugins add theirs through ClcContext.route).
 * Every route is under /v1/ and token-authenticated, except GET /healthz.
 * Handlers are thin: they pick arguments out of the request and call the
 * property and state services, which validate everything.
 */
import { healthFields } from '../../shared/daemon-metrics.ts';
import type { ApiRequest, ApiResponse } from '../contracts.ts';
import { UserError } from '../../shared/errors.ts';
import type { PropertyService } from '../properties/service.ts';
import { NETWORK_CONFIGURATION } from '../properties/registry.ts';
import type { CloudState } from '../services/cloud-state.ts';
import type { Router } from './router.ts';

export interface CoreRouteDeps {
  readonly properties: PropertyService;
  readonly state: CloudState;
  readonly startedAt: number;
  readonly now: () => number;
}

const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });

function body(req: ApiRequest): Record<string, unknown> {
  if (req.body === undefined) return {};
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw new UserError('MALFORMED_REQUEST', 'the request body must be a JSON object');
  }
  return req.body as Record<string, unknown>;
}

const q = (req: ApiRequest, name: string): string | undefined => req.query.get(name) ?? undefined;

export function registerCoreRoutes(router: Router, deps: CoreRouteDeps): void {
  const { properties, state } = deps;
  const r = (method: string, pattern: string, handler: (req: ApiRequest) => Promise<ApiResponse>, options?: { public?: boolean }) =>
    router.add(method, pattern, handler, options);

  r('GET', '/healthz', async () => ok({ ...healthFields('clc', true), uptimeSeconds: Math.round((deps.now() - deps.startedAt) / 1000) }), { public: true });

  // Properties.
  r('GET', '/v1/properties', async () => ok({ properties: await properties.list() }));
  r('GET', '/v1/properties/:name', async (req) => ok(await properties.get(req.params.name!)));
  r('PUT', '/v1/properties/:name', async (req) => {
    const value = body(req).value;
    if (typeof value !== 'string') throw new UserError('MissingParameter', 'the body must be {"value": "<text>"}');
    const result = await properties.set(req.params.name!, value);
    // A changed configuration may no longer cover addresses in use: they stay allocated and are reported.
    const outside = req.params.name === NETWORK_CONFIGURATION ? await state.outsidePools() : [];
    return ok({ ...result, ...(outside.length > 0 ? { outsidePools: outside } : {}) });
  });
  r('DELETE', '/v1/properties/:name', async (req) => ok(await properties.reset(req.params.name!)));
  r('GET', '/v1/properties/:name/history', async (req) => ok({ name: req.params.name, history: await properties.history(req.params.name!) }));

  // Clusters and nodes.
  r('GET', '/v1/clusters', async () => ok({ clusters: await state.listClusters() }));
  r('POST', '/v1/clusters', async (req) => ok(await state.registerCluster(body(req)), 201));
  r('GET', '/v1/clusters/:cluster', async (req) => ok(await state.getCluster(req.params.cluster!)));
  r('PATCH', '/v1/clusters/:cluster', async (req) => ok(await state.updateCluster(req.params.cluster, body(req))));
  r('DELETE', '/v1/clusters/:cluster', async (req) => {
    await state.deregisterCluster(req.params.cluster);
    return ok({ deregistered: req.params.cluster });
  });
  r('GET', '/v1/nodes', async (req) => ok({ nodes: await state.listNodes(q(req, 'cluster')) }));
  r('PATCH', '/v1/nodes/:node', async (req) => ok(await state.updateNode(req.params.node, body(req))));
  r('GET', '/v1/clusters/:cluster/nodes', async (req) => ok({ nodes: await state.listNodes(req.params.cluster) }));
  r('POST', '/v1/clusters/:cluster/nodes', async (req) => ok(await state.registerNode({ ...body(req), cluster: req.params.cluster }), 201));
  r('DELETE', '/v1/clusters/:cluster/nodes/:node', async (req) => {
    await state.deregisterNode(req.params.cluster, req.params.node);
    return ok({ deregistered: req.params.node, cluster: req.params.cluster });
  });

  // Instances.
  r('GET', '/v1/instances', async (req) => {
    const filter: { cluster?: string; node?: string; owner?: string } = {};
    for (const k of ['cluster', 'node', 'owner'] as const) {
      const v = q(req, k);
      if (v !== undefined) filter[k] = v;
    }
    return ok({ instances: await state.listInstances(filter) });
  });
  r('POST', '/v1/instances', async (req) => ok(await state.runInstance(body(req)), 201));
  r('GET', '/v1/instances/:id', async (req) => ok(await state.getInstance(req.params.id!)));
  r('DELETE', '/v1/instances/:id', async (req) => ok({ terminated: await state.terminateInstance(req.params.id) }));

  // IPAM.
  r('GET', '/v1/ipam', async (req) => ok(await state.ipamShow(q(req, 'cluster'))));
  r('POST', '/v1/ipam/reservations', async (req) => {
    const b = body(req);
    await state.addReservation(b);
    return ok({ reserved: b.ip }, 201);
  });
  r('DELETE', '/v1/ipam/reservations/:ip', async (req) => {
    await state.removeReservation(req.params.ip);
    return ok({ unreserved: req.params.ip });
  });

  // Security groups.
  r('GET', '/v1/groups', async (req) => ok({ groups: await state.listGroups(q(req, 'owner')) }));
  r('POST', '/v1/groups', async (req) => ok(await state.createGroup(body(req)), 201));
  r('GET', '/v1/groups/:group', async (req) => ok(await state.getGroup(req.params.group, q(req, 'owner'))));
  r('DELETE', '/v1/groups/:group', async (req) => {
    const g = await state.deleteGroup(req.params.group, q(req, 'owner'));
    return ok({ deleted: g.id, name: g.name, ownerId: g.owner_id });
  });
  r('POST', '/v1/groups/:group/authorize', async (req) => {
    const b = body(req);
    return ok(await state.authorize(req.params.group, b.owner ?? q(req, 'owner'), b));
  });
  r('POST', '/v1/groups/:group/revoke', async (req) => {
    const b = body(req);
    return ok(await state.revoke(req.params.group, b.owner ?? q(req, 'owner'), b));
  });

  // Public addresses.
  r('GET', '/v1/addresses', async (req) => ok({ addresses: await state.listAddresses(q(req, 'owner')) }));
  r('POST', '/v1/addresses', async (req) => ok(await state.allocateAddress(body(req)), 201));
  r('POST', '/v1/addresses/:ip/associate', async (req) => ok(await state.associateAddress({ ...body(req), ip: req.params.ip })));
  r('POST', '/v1/addresses/:ip/disassociate', async (req) => ok(await state.disassociateAddress({ ...body(req), ip: req.params.ip })));
  r('DELETE', '/v1/addresses/:ip', async (req) => ok({ released: await state.releaseAddress({ ip: req.params.ip, owner: q(req, 'owner') }) }));

  // Accounts and their EC2 access keys. A new key's secret is in the POST answer only.
  r('GET', '/v1/accounts', async () => ok({ accounts: await state.listAccounts() }));
  r('POST', '/v1/accounts', async (req) => ok(await state.createAccount(body(req)), 201));
  r('GET', '/v1/accounts/:account', async (req) => ok(await state.getAccount(req.params.account)));
  r('DELETE', '/v1/accounts/:account', async (req) => ok(await state.deleteAccount(req.params.account)));
  r('GET', '/v1/accounts/:account/keys', async (req) => ok({ keys: await state.listAccessKeys(req.params.account) }));
  r('POST', '/v1/accounts/:account/keys', async (req) => ok(await state.createAccessKey(req.params.account), 201));
  r('GET', '/v1/keys', async (req) => ok({ keys: await state.listAccessKeys(q(req, 'account')) }));
  r('DELETE', '/v1/keys/:accessKeyId', async (req) => ok({ deleted: await state.deleteAccessKey(req.params.accessKeyId) }));

  // Whole state, as the GNI builder sees it (debugging aid).
  r('GET', '/v1/snapshot', async () => ok(await state.snapshot()));
  r('GET', '/v1/routes', async () => ok({ routes: router.list() }));
}
