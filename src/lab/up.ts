/**
 * `edgenet lab up`: the whole cloud on this machine, in network namespaces.
 *
 * Order (each step recorded in the state file before the next, so `down`
 * cleans up after a failure at any point):
 *   1. plan + state file; refuse when the lab (state file or namespaces) exists
 *   2. topology (topology.ts): lan, two nodes, control, client
 *   3. certificates (CA + clc, cc, nc-nK) with the certs library (shared/tls/certs.ts)
 *   4. the lab's network configuration and netd.conf per node
 *   5. daemons: relays + CLC + CC in P-ctl; NC + netd in each P-nK; host relays
 *      (admin API and EC2 endpoint). With `--db postgres`: first a second
 *      address in P-ctl (clc-2's CLC_IP) and PostgreSQL (postgres.ts), then
 *      clc-1 with its relays; clc-2 once clc-1 answers (it made the token
 *      file and the credentials key both use, and migrated the database)
 *   6. through the API: the properties (network configuration,
 *      cloud.ec2.run_instances=true), the cluster, its nodes, the tenant
 *      account and its credentials file (ec2.ts)
 *   7. wait until every node reports the current document applied
 * ROUTED (`--mode routed`, issue 17): step 2 builds the ROUTED topology with
 * the router namespace, step 4 writes the ROUTED property (plan.ts
 * labRoutedNetworkConfiguration) and the router's bird.conf (checked by
 * `bird -p`), step 5 starts the router's BIRD first (router.ts), and step 7
 * also waits until the router has an established session with every node.
 * On failure everything made so far is torn down (unless `keepOnFailure`).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Exec, Process } from '../shared/exec.ts';
import { createNetns } from './netns.ts';
import type { Clock } from '../shared/clock.ts';
import { systemClock } from '../shared/clock.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { initCa, issueCert } from '../shared/tls/certs.ts';
import type { StatusView } from '../cloud-controller/broadcast/status-view.ts';
import { NETWORK_CONFIGURATION as NETWORK_CONFIGURATION_PROPERTY } from '../cloud-controller/properties/registry.ts';
import { buildTopology, openTopology } from './topology.ts';
import { labNames } from './names.ts';
import { defaultLabDir, LAB_TENANT_ACCOUNT, labNetdConf, labNetworkConfiguration, labPlan, labRoutedNetworkConfiguration, type LabClcPlan, type LabDbKind, type LabMode, type LabPlan } from './plan.ts';
import { ccSpec, clcSpec, ctlRelaySpec, hostRelaySpec, ncSpec, netdSpec, routerBirdSpec, type DaemonSpec } from './daemons.ts';
import { routerSessions, writeRouterConf, type RouterSession } from './router.ts';
import { readLabState, writeLabState, type LabProcess, type LabState } from './state.ts';
import { labApiClient, type ApiClient } from './api.ts';
import { waitFor } from '../shared/wait.ts';
import { labDown } from './down.ts';
import { labEc2Setup } from './ec2.ts';
import { startLabPostgres } from './postgres.ts';
import { GUEST_IF } from './names.ts';

export interface LabDeps {
  readonly exec: Exec;
  readonly clock?: Clock;
  readonly env: NodeJS.ProcessEnv;
  /** Progress lines for the operator. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface LabUpOptions {
  readonly name: string;
  readonly dir?: string;
  /** Wait for convergence at most this long (default 120 s); 0 = do not wait. */
  readonly convergeTimeoutMs?: number;
  readonly keepOnFailure?: boolean;
  /** Today's IPv4-only lab (`lab up --ipv4-only`); default: dual stack (plan.ts). */
  readonly ipv4Only?: boolean;
  /** `postgres`: PostgreSQL in the control namespace and two CLCs on it (`lab up --db postgres`); default one CLC on SQLite. */
  readonly db?: LabDbKind;
  /** `routed`: a ROUTED cloud behind an upstream BGP router (`lab up --mode routed`, issue 17); default `edge`. */
  readonly mode?: LabMode;
}

const LOG_ENV = 'EDGENET_LAB_LOG';

/**
 * The daemon's own stdout/stderr go straight to its log file: `Exec.start`'s
 * `logFile` pipes output through the parent, so a daemon would die of EPIPE
 * once `lab up` exits. The fixed script takes the log path from the
 * environment and the command from "$@" (nothing is interpolated), and `exec`
 * keeps the recorded pid the daemon's own.
 */
export function detachedArgv(argv: readonly string[]): string[] {
  return ['sh', '-c', `exec "$@" >>"$${LOG_ENV}" 2>&1 </dev/null`, 'edgenet-lab', ...argv];
}

/** Starts one lab daemon detached, output appended to its log; returns its state-file entry. */
export async function startDaemon(spec: DaemonSpec, exec: Exec): Promise<{ entry: LabProcess; process: Process }> {
  await fs.appendFile(spec.log, `--- ${new Date().toISOString()} ${spec.argv.slice(1).join(' ')}\n`);
  const argv = detachedArgv(spec.argv);
  const env = { ...spec.env, [LOG_ENV]: spec.log };
  const proc = spec.ns ? createNetns(exec).startIn(spec.ns, argv, { env, detached: true }) : exec.start(argv, { env, detached: true });
  const entry: LabProcess = { role: spec.role, ...(spec.node ? { node: spec.node } : {}), ...(spec.clc ? { clc: spec.clc } : {}), ...(spec.ns ? { ns: spec.ns } : {}), pid: proc.pid, argv: spec.argv, log: spec.log };
  return { entry, process: proc };
}

export const EXAMPLE_CONFIGURATION = fileURLToPath(new URL('../../examples/network_configuration.json', import.meta.url));

export async function labUp(options: LabUpOptions, deps: LabDeps): Promise<LabState> {
  const plan = labPlan(options.name, options.dir ?? defaultLabDir(options.name, deps.env), { ipv4Only: options.ipv4Only === true, db: options.db ?? 'sqlite', mode: options.mode ?? 'edge' });
  const existing = await readLabState(plan.stateFile);
  const namespaces = await openTopology(plan.topology, deps).netns.list(labNames.nsPrefix(plan.prefix));
  if (existing || namespaces.length > 0) {
    throw new EdgenetError('LAB_EXISTS', `lab "${plan.name}" already exists (${existing ? plan.stateFile : namespaces.join(', ')}); run \`edgenet lab down --name ${plan.name}\` first`);
  }
  try {
    return await bringUp(plan, options, deps);
  } catch (err) {
    if (!options.keepOnFailure) {
      deps.log(`lab ${plan.name}: start failed, tearing down: ${errorMessage(err)}`);
      await labDown({ name: plan.name, dir: plan.dir }, deps).catch((e: unknown) => deps.log(`teardown after failure: ${errorMessage(e)}`));
    }
    throw err;
  }
}

async function bringUp(plan: LabPlan, options: LabUpOptions, deps: LabDeps): Promise<LabState> {
  const log = deps.log;
  for (const dir of [plan.dir, plan.paths.logs, plan.paths.stateDir, plan.paths.runDir, plan.paths.confDir, plan.paths.ccState, path.dirname(plan.paths.clcDb), ...plan.nodes.flatMap((n) => [n.runDir, ...(n.stateDir ? [n.stateDir] : [])])]) {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  }
  let state: LabState = { version: 1, plan, createdAt: new Date().toISOString(), phase: 'starting', processes: [] };
  await writeLabState(state);

  const r = plan.routed;
  const addressing = r
    ? `ROUTED (cluster ${plan.cluster}: ${r.ipv4Pool.join(', ')}${r.ipv6Prefix ? ` and ${r.ipv6Prefix}` : ''}; elastic ${r.publicIps.join(', ')})`
    : plan.ipv6 ? `dual stack (cluster ${plan.cluster}: ${plan.vmSubnet} and ${plan.ipv6.prefix})` : 'IPv4 only';
  log(`lab ${plan.name}: namespaces ${plan.prefix}-{lan,ctl,cl,${r ? `${r.router.short},` : ''}${plan.nodes.map((n) => n.short).join(',')}}, ${addressing}`);
  const topo = await buildTopology(plan.topology, deps);

  log(`lab ${plan.name}: certificates in ${plan.paths.certs}`);
  await initCa(deps.exec, plan.paths.certs);
  await issueCert(deps.exec, { dir: plan.paths.certs, name: 'clc', role: 'clc', ips: [plan.ctlIp, '127.0.0.1'], dnsNames: [] });
  await issueCert(deps.exec, { dir: plan.paths.certs, name: 'cc', role: 'cc', ips: [plan.ctlIp], dnsNames: [] });
  for (const node of plan.nodes) {
    await issueCert(deps.exec, { dir: plan.paths.certs, name: node.certName, role: 'nc', ips: [node.mgmtIp], dnsNames: [] });
  }

  const example = JSON.parse(await fs.readFile(EXAMPLE_CONFIGURATION, 'utf8')) as Record<string, unknown>;
  const configText = `${JSON.stringify(plan.routed ? labRoutedNetworkConfiguration(plan, example) : labNetworkConfiguration(plan, example), null, 2)}\n`;
  await fs.writeFile(plan.paths.networkConfiguration, configText, { mode: 0o644 });
  for (const node of plan.nodes) await fs.writeFile(node.netdConfFile, labNetdConf(plan, node), { mode: 0o644 });

  const ctlNs = topo.ctlNs!;
  const started: LabProcess[] = [];
  const start = async (spec: DaemonSpec) => {
    const { entry, process: proc } = await startDaemon(spec, deps.exec);
    started.push(entry);
    state = { ...state, processes: [...started] };
    await writeLabState(state);
    return proc;
  };

  if (plan.postgres && plan.clcs) {
    // clc-2's own address next to the control namespace's (its CLC_IP: the metadata DNAT target while it leads).
    for (const c of plan.clcs.slice(1)) {
      await topo.netns.addAddress(ctlNs, GUEST_IF, `${c.ip}/${plan.topology.lan.split('/')[1]}`);
      if (c.ipv6 && plan.ipv6) await topo.netns.addAddress(ctlNs, GUEST_IF, `${c.ipv6}/${plan.ipv6.lan.split('/')[1]}`);
    }
    log(`lab ${plan.name}: PostgreSQL in ${ctlNs} (127.0.0.1:${plan.postgres.port}, data ${plan.postgres.dataDir})`);
    const pg = await startLabPostgres(plan.postgres, { labDir: plan.dir, ctlNs }, deps);
    started.push(pg);
    state = { ...state, processes: [...started] };
    await writeLabState(state);
  }

  // A daemon that exits while we wait (bad flag, missing command) fails `up` with its log.
  let died: string | undefined;
  const watch = (proc: Process, what: string, log: string) => void proc.exited.then((r) => (died ??= `${what} exited (${r.code ?? r.signal}); see ${log}`));

  if (r && topo.routerNs) {
    // The router first: the nodes' BIRD (netd's) connects to it as soon as their document says so.
    log(`lab ${plan.name}: upstream router ${topo.routerNs} (BIRD, AS ${r.router.asn}, ${r.router.conf}); sessions with ${r.nodes.map((n) => `${n.short} AS ${n.asn}`).join(', ')}`);
    await writeRouterConf(plan, deps.exec);
    const spec = routerBirdSpec(plan, topo.routerNs);
    watch(await start(spec), "the router's BIRD", spec.log);
  }
  const relayPort = (file: string, what: string) =>
    waitFor(async () => {
      if (died) throw new EdgenetError('LAB_DAEMON_DIED', died);
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      return /^\d+\s*$/.test(text) ? Number(text) : undefined;
    }, { timeoutMs: 120_000, what, ...(deps.signal ? { signal: deps.signal } : {}) });
  const answering = (url: string) =>
    waitFor(async () => {
      if (died) throw new EdgenetError('LAB_DAEMON_DIED', died);
      const t = (await fs.readFile(plan.paths.clcToken, 'utf8').catch(() => '')).trim();
      if (!t) return undefined;
      await labApiClient(url, t).request('GET', '/healthz');
      return t;
    }, { timeoutMs: 180_000, intervalMs: 200, what: `the cloud controller at ${url}`, ...(deps.signal ? { signal: deps.signal } : {}) });

  // One CLC on SQLite, or each of the two on PostgreSQL: its relays, then (below) the CLC itself.
  const clcs: readonly (LabClcPlan | undefined)[] = plan.clcs ?? [undefined];
  log(`lab ${plan.name}: ${clcs.length === 1 ? 'cloud controller' : `cloud controllers ${clcs.map((c) => c!.id).join(', ')}`}, cluster controller (${ctlNs}); node controller + netd per node`);
  for (const c of clcs) {
    await start(ctlRelaySpec(plan, ctlNs, 'api', c));
    await start(ctlRelaySpec(plan, ctlNs, 'ec2', c));
  }
  const startClc = async (c: LabClcPlan | undefined) => {
    const spec = clcSpec(plan, ctlNs, c);
    watch(await start(spec), c ? `cloud controller ${c.id}` : 'the cloud controller', spec.log);
  };
  // The first CLC alone until it answers: it creates the token file and the credentials key the
  // second one reads (two starting at once would each write their own) and migrates the database.
  await startClc(clcs[0]);
  const ccSpecValue = ccSpec(plan, ctlNs);
  watch(await start(ccSpecValue), 'the cluster controller', ccSpecValue.log);
  for (const node of plan.nodes) {
    await start(ncSpec(plan, node, topo.nodeNs(node.short)));
    await start(netdSpec(plan, node, topo.nodeNs(node.short)));
  }
  for (const c of clcs) {
    await start(hostRelaySpec(plan, 'api', c));
    await start(hostRelaySpec(plan, 'ec2', c));
  }

  const urls: string[] = [];
  const byClc: Record<string, string> = {};
  for (const c of clcs) {
    const u = `http://127.0.0.1:${await relayPort(c?.apiPortFile ?? plan.paths.apiPortFile, `the host relay${c ? ` of ${c.id}` : ''}`)}`;
    urls.push(u);
    if (c) byClc[c.id] = u;
  }
  const url = urls[0]!;
  const ec2Url = `http://127.0.0.1:${await relayPort(plan.paths.ec2PortFile, 'the host relay of the EC2 endpoint')}`;
  const token = await answering(url);
  for (const c of clcs.slice(1)) {
    await startClc(c);
    await answering(byClc[c!.id]!);
  }
  state = { ...state, api: { url, tokenFile: plan.paths.clcToken, ...(plan.clcs ? { urls, byClc } : {}) } };
  await writeLabState(state);

  const api = labApiClient(url, token, deps.signal);
  log(`lab ${plan.name}: ${NETWORK_CONFIGURATION_PROPERTY} from ${plan.paths.networkConfiguration}; cluster ${plan.cluster}; nodes ${plan.nodes.map((n) => n.name).join(', ')}`);
  await api.request('PUT', `/v1/properties/${NETWORK_CONFIGURATION_PROPERTY}`, { value: configText });
  await api.request('POST', '/v1/clusters', { name: plan.cluster, ccUrl: plan.ccUrl });
  for (const node of plan.nodes) await api.request('POST', `/v1/clusters/${plan.cluster}/nodes`, { name: node.name, ncUrl: node.ncUrl });
  log(`lab ${plan.name}: EC2 endpoint ${ec2Url}; account ${LAB_TENANT_ACCOUNT}, its key in ${plan.paths.tenantCredentials}`);
  state = { ...state, ec2: await labEc2Setup(plan, api, ec2Url) };

  state = { ...state, phase: 'up' };
  await writeLabState(state);
  const timeout = options.convergeTimeoutMs ?? 120_000;
  if (timeout > 0) {
    log(`lab ${plan.name}: waiting for every node to apply the current document`);
    await waitForConvergence(api, { timeoutMs: timeout, ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.signal ? { signal: deps.signal } : {}) });
    if (plan.routed) {
      log(`lab ${plan.name}: waiting for the router's BGP session with every node`);
      await waitForRouterSessions(plan, deps, { timeoutMs: timeout });
    }
  }
  return state;
}

/** ROUTED labs: waits (bounded) until the router's session with every node is Established; LAB_ROUTER_FAILED says which are not. */
export async function waitForRouterSessions(plan: LabPlan, deps: Pick<LabDeps, 'exec' | 'clock' | 'signal'>, options: { timeoutMs: number }): Promise<RouterSession[]> {
  // One session per node and family (router.ts).
  const want = (plan.routed?.nodes.length ?? 0) * (plan.routed?.ipv6Prefix ? 2 : 1);
  let last: RouterSession[] = [];
  try {
    return await waitFor(async () => {
      last = await routerSessions(plan, deps).catch(() => []);
      return last.length === want && last.every((s) => s.established) ? last : undefined;
    }, { timeoutMs: options.timeoutMs, intervalMs: 200, what: "the router's BGP sessions", clock: deps.clock ?? systemClock, ...(deps.signal ? { signal: deps.signal } : {}) });
  } catch (err) {
    const seen = last.length === 0 ? 'no session readable' : last.map((s) => `${s.node} ${s.family} ${s.state} ${s.info}`).join('; ');
    throw new EdgenetError('LAB_ROUTER_FAILED', `the router's BGP sessions did not all come up within ${options.timeoutMs} ms (${seen}); see ${plan.routed?.router.log} and the nodes' netd logs`, { cause: err });
  }
}

/** Polls GET /v1/status until every node applied the current document; returns that status. */
export async function waitForConvergence(
  api: ApiClient,
  options: { timeoutMs: number; minSequence?: number; clock?: Clock; signal?: AbortSignal },
): Promise<StatusView> {
  return waitFor(
    async () => {
      const status = await api.request<StatusView>('GET', '/v1/status');
      const nodes = status.clusters.flatMap((c) => c.nodes);
      const seq = status.current?.sequence;
      if (!status.current || nodes.length === 0 || !status.converged) return undefined;
      if (options.minSequence !== undefined && (seq === undefined || seq < options.minSequence)) return undefined;
      return nodes.every((n) => n.converged) ? status : undefined;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100, what: 'every node to converge (edgenet status)', clock: options.clock ?? systemClock, ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/**
 * Waits until a document built at or after `since` (epoch ms, e.g. just after
 * the last API call) is applied on every node: the change is in every kernel.
 */
export async function waitForConvergedAfter(
  api: ApiClient,
  since: number,
  options: { timeoutMs: number; clock?: Clock; signal?: AbortSignal },
): Promise<StatusView> {
  const clock = options.clock ?? systemClock;
  return waitFor(
    async () => {
      const status = await api.request<StatusView>('GET', '/v1/status');
      const nodes = status.clusters.flatMap((c) => c.nodes);
      if (!status.current || Date.parse(status.current.builtAt) < since) return undefined;
      return status.converged && nodes.length > 0 && nodes.every((n) => n.converged) ? status : undefined;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100, what: 'a document built after the change to be applied on every node', clock, ...(options.signal ? { signal: options.signal } : {}) },
  );
}
