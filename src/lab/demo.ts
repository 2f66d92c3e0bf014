/**
 * The demo (README's main command, via scripts/demo.sh → `edgenet lab demo`):
 * the whole pipeline admin → CLC → CC → NCs → netd → kernel → packets, shown
 * on one machine.
 *
 * Scenario (chosen so every kind of verdict appears in the matrix):
 *   group web: tcp 80 from 0.0.0.0/0            (a CIDR rule: anyone may reach the web port)
 *   group db:  tcp 5432 from group web          (a source-group rule: only web members)
 *              icmp (any) from 10.111.0.0/16    (a CIDR rule covering the private network)
 *   web1 on n1 (web, public address), web2 on n2 (web), db1 on n2 (db)
 *   → web1↔web2 anything (same group), web→db 5432 (source group), db→web 80
 *     (CIDR), db→web 22 blocked, anyone→db 80 blocked, the client reaches web1's
 *     public address on 80 only, ping reaches db from any instance, not web.
 * Dual stack (the default; `--ipv4-only` for the IPv4 lab): web also admits
 * tcp 80 from ::/0 and db icmpv6 echo from the cluster's /64, every instance
 * gets its global IPv6 address by SLAAC, and every matrix row has an IPv4
 * and an IPv6 verdict side by side (IPv6 probes go to the instances' global
 * addresses; the client reaches any instance's global address a rule
 * admits, there is no NAT); the demo also fetches web1 over IPv6 from the
 * client and web1's metadata `ipv6` over IPv6 ([fd00:ec2::254]). When an
 * instance has no IPv6 address, its IPv6 cells say why instead of a verdict.
 * Every matrix row prints the expectation computed from the groups
 * (matrix.ts), what a real probe saw, and why. Then the demo waits for Ctrl-C
 * (or `exitAfterMs`) and tears everything down. Exit code 1 when a probe
 * disagreed with the expectation.
 *
 * ROUTED (`--mode routed`, issue 17): the same groups and instances in a
 * ROUTED cloud. Each instance configures itself from its config drive (no
 * DHCP, no SLAAC); db's echo rules name the routed pool and /64; the elastic
 * address is one more routed /32 on web1 (no NAT), which web1 adds when its
 * drive changes. The client, behind the upstream router, reaches every
 * instance by its routed addresses where a group admits it, so its matrix
 * rows cover every instance in both families. Next to the matrix the demo
 * prints the routes the router learned over BGP (`birdc show route` and its
 * kernel's `proto bird` routes), each with the node it came from.
 */
import type { CloudSnapshot } from '../cloud-controller/contracts.ts';
import type { InstanceView } from '../cloud-controller/services/instances.ts';
import type { StatusView } from '../cloud-controller/broadcast/status-view.ts';
import { errorMessage } from '../shared/errors.ts';
import { labUp, waitForConvergedAfter, type LabDeps } from './up.ts';
import { labDown } from './down.ts';
import { labApiEnv, labApiFor, type ApiClient } from './api.ts';
import { labVmAdd, labTopology } from './vm.ts';
import { expectVerdict, serviceLabel, type MatrixGroup, type Service } from './matrix.ts';
import { httpGet, mapLimit, probeExpecting, startServices, waitForServices } from './probe.ts';
import type { LabState } from './state.ts';
import { IPV6_METADATA_ADDRESS } from '../shared/gni/ipv6.ts';
import { AWS_CLI, ec2UsageLines, tenantAws } from './ec2.ts';
import { existsSync } from 'node:fs';
import type { LabMode } from './plan.ts';
import { birdc, routerKernelRoutes } from './router.ts';
import { labVmReconfigure } from './vm.ts';

export interface DemoOptions {
  readonly name: string;
  readonly dir?: string;
  /** Tear down after this long instead of waiting for the signal. */
  readonly exitAfterMs?: number;
  /** The IPv4-only lab and matrix. */
  readonly ipv4Only?: boolean;
  /** `routed`: the ROUTED lab (default `edge`). */
  readonly mode?: LabMode;
}

export interface DemoDeps extends LabDeps {
  readonly out: (text: string) => void;
  /**
   * Runs an `edgenet` command with these variables added to the environment
   * and returns its exit code (the CLI passes itself: the lab sits below it).
   */
  readonly edgenet: (argv: readonly string[], env: Readonly<Record<string, string>>) => Promise<number>;
}

interface DemoVm {
  readonly label: string;
  readonly node: number;
  readonly group: string;
  view?: InstanceView;
  /** Its global IPv6 address once SLAAC configured it (dual-stack labs). */
  ipv6?: string;
  /** Why it has none (dual-stack labs). */
  ipv6Error?: string;
}

const TCP_PORTS = [22, 80, 5432] as const;
const SERVICES: readonly Service[] = [...TCP_PORTS.map((port) => ({ proto: 'tcp' as const, port })), { proto: 'icmp' }];

export async function runDemo(options: DemoOptions, deps: DemoDeps): Promise<number> {
  const out = deps.out;
  let state: LabState | undefined;
  let code = 0;
  try {
    state = await labUp({ name: options.name, ...(options.dir ? { dir: options.dir } : {}), ipv4Only: options.ipv4Only === true, mode: options.mode ?? 'edge' }, deps);
    code = await scenario(state, deps);
    out(`\nThe lab stays up${options.exitAfterMs !== undefined ? ` for ${Math.round(options.exitAfterMs / 1000)} s` : ' until Ctrl-C'}. Meanwhile, from another shell:
  eval "$(edgenet lab env --name ${state.plan.name})"; edgenet status
  edgenet lab sh --name ${state.plan.name} n1 -- iptables-save${ec2UsageLines(state).map((l) => `\n  ${l}`).join('')}`);
    await waitForStop(options.exitAfterMs, deps.signal);
  } catch (err) {
    if (!deps.signal?.aborted) {
      deps.log(`demo failed: ${errorMessage(err)}`);
      code = 1;
    }
  } finally {
    out('\nTearing down the lab...');
    await labDown({ name: options.name, ...(options.dir ? { dir: options.dir } : {}) }, deps).catch((e: unknown) => {
      deps.log(`teardown failed: ${errorMessage(e)}`);
      code = 1;
    });
  }
  return code;
}

function waitForStop(ms: number | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      if (timer) clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function scenario(state: LabState, deps: DemoDeps): Promise<number> {
  const out = deps.out;
  const api = labApiFor(state, deps.signal);
  const plan = state.plan;
  const topo = labTopology(state, deps);
  const say = (cmd: string) => out(`$ edgenet ${cmd}`);

  out('\n== Security groups');
  say('group create web'); await api.request('POST', '/v1/groups', { name: 'web', description: 'web servers' });
  say('group create db'); await api.request('POST', '/v1/groups', { name: 'db', description: 'databases' });
  say('group authorize web -P tcp -p 80 -s 0.0.0.0/0');
  await api.request('POST', '/v1/groups/web/authorize', { protocol: 'tcp', port: '80', cidr: '0.0.0.0/0' });
  say('group authorize db -P tcp -p 5432 -o web');
  await api.request('POST', '/v1/groups/db/authorize', { protocol: 'tcp', port: '5432', sourceGroup: 'web' });
  // Echo from the instances' own addresses: EDGE's VM subnet, ROUTED's pool (a /24 covering it).
  const echoCidr = plan.routed ? ROUTED_ECHO_CIDR : '10.111.0.0/16';
  say(`group authorize db -P icmp -t -1:-1 -s ${echoCidr}`);
  await api.request('POST', '/v1/groups/db/authorize', { protocol: 'icmp', icmp: '-1:-1', cidr: echoCidr });
  const v6 = plan.ipv6;
  if (v6) {
    // The IPv6 counterparts: the web port from anywhere, echo from the cluster's own /64.
    say('group authorize web -P tcp -p 80 -s ::/0');
    await api.request('POST', '/v1/groups/web/authorize', { protocol: 'tcp', port: '80', cidr: '::/0' });
    say(`group authorize db -P icmpv6 -t 128:-1 -s ${v6.prefix}`);
    await api.request('POST', '/v1/groups/db/authorize', { protocol: 'icmpv6', icmp: '128:-1', cidr: v6.prefix });
  }

  out(plan.routed
    ? `\n== Instances (each one a network namespace with vn_<id> routed by its node: no bridge; addresses, routes and DNS from its config drive)`
    : `\n== Instances (each one a network namespace with vn_<id> in its node bridge, address from dhcpd${v6 ? `, IPv6 by SLAAC in ${v6.prefix}` : ''})`);
  const vms: DemoVm[] = [
    { label: 'web1', node: 0, group: 'web' },
    { label: 'web2', node: 1, group: 'web' },
    { label: 'db1', node: 1, group: 'db' },
  ];
  for (const vm of vms) {
    const node = plan.nodes[vm.node]!;
    say(`instance run --cluster ${plan.cluster} --node ${node.name} --group ${vm.group}`);
    vm.view = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node: node.name, groups: [vm.group] });
    out(`  ${vm.label}: ${vm.view.id} mac ${vm.view.mac} ${plan.routed ? 'routed' : 'private'} ${vm.view.privateIp ?? '(no IPv4)'} on ${node.short} (${node.name})`);
  }
  await Promise.all(
    vms.map(async (vm) => {
      const r = await labVmAdd(state, api, { id: vm.view!.id, timeoutMs: 90_000, ipv6: 'try' }, deps);
      if (r.ipv6?.address) vm.ipv6 = r.ipv6.address;
      else if (r.ipv6) vm.ipv6Error = r.ipv6.error ?? 'no IPv6 address';
      if (r.drive) {
        const n = r.drive.network;
        out(`$ edgenet lab vm add ${vm.view!.id}   # ${vm.label}: config drive → ${n.addresses.join(' ')}; routes ${n.routes.map((x) => `${x.to} via ${x.via ?? '-'}${x.onLink ? ' onlink' : ''}`).join(', ')}`);
      } else {
        const slaac = !r.ipv6 ? '' : r.ipv6.address ? `; slaac → ${r.ipv6.address}/${r.ipv6.prefixLength ?? 64} router ${r.ipv6.routers.join(',') || '-'}` : `; NO IPv6 (${vm.ipv6Error})`;
        out(`$ edgenet lab vm add ${vm.view!.id}   # ${vm.label}: dhcp → ${r.lease?.ip}/${r.lease?.prefixLength} router ${r.lease?.routers.join(',')}${slaac}`);
      }
      startServices(topo.netns, r.instance.ns, { name: `${vm.label} ${vm.view!.id}`, tcpPorts: [...TCP_PORTS] });
      await waitForServices(topo.netns, r.instance.ns, TCP_PORTS);
    }),
  );

  out('\n== Public address');
  say('address allocate');
  const address = await api.request<{ ip: string }>('POST', '/v1/addresses', {});
  const web1 = vms[0]!.view!;
  say(`address associate ${address.ip} ${web1.id}`);
  await api.request('POST', `/v1/addresses/${address.ip}/associate`, { instance: web1.id });
  const changedAt = Date.now();

  out('\n== Waiting until every node has applied the latest document');
  await waitForConvergedAfter(api, changedAt, { timeoutMs: 60_000, ...(deps.signal ? { signal: deps.signal } : {}) });
  if (plan.routed) {
    // ROUTED: the elastic address is one more routed /32 on web1; its drive now says so, and web1 applies it.
    const again = await labVmReconfigure(state, api, web1.id, deps);
    out(`  web1 applies its changed config drive: ${again.drive!.network.addresses.join(' ')}`);
  }
  await printStatus(state, api, deps);

  const snapshot = await api.request<CloudSnapshot>('GET', '/v1/snapshot');
  const groups: MatrixGroup[] = snapshot.groups.map((g) => ({ id: g.id, name: g.name, rules: g.rules }));
  const { mismatches, unavailable } = await printMatrix({ state, vms, groups, publicIp: address.ip, out, topo });
  const routeProblems = plan.routed ? await printRouterRoutes(state, vms, address.ip, deps) : [];

  out('\n== From the client (public side) to the public address');
  const reply = await httpGet(topo.netns, topo.clientNs!, `http://${address.ip}/`, 3);
  out(`$ curl http://${address.ip}/   (from ${topo.clientNs}, ${plan.clientIp})\n  ${reply ? `HTTP ${reply.status}: ${reply.body.trim()}` : 'no answer'}`);
  const meta = await httpGet(topo.netns, topo.instanceNs(web1.id), 'http://169.254.169.254/latest/meta-data/instance-id', 3);
  out(`$ curl http://169.254.169.254/latest/meta-data/instance-id   (from web1)\n  ${meta ? meta.body.trim() : 'no answer'}`);
  const problems: string[] = [];
  if (mismatches > 0) problems.push(`${mismatches} probe(s) disagreed with the security groups`);
  problems.push(...routeProblems);
  if (reply?.status !== 200) problems.push('the public address did not answer');
  if (meta?.body.trim() !== web1.id) problems.push('metadata did not answer');
  if (v6) problems.push(...(await ipv6Extras({ vm: vms[0]!, clientNs: topo.clientNs!, clientIp: v6.clientIp, web1Ns: topo.instanceNs(web1.id), topo, out })));
  problems.push(...(await ec2Extras(state, deps)));
  if (unavailable.length > 0) out(`\nIPv6 was not available for ${unavailable.join('; ')}: those IPv6 cells show why instead of a verdict.`);
  out(`\n${problems.length === 0 ? 'Every probe matched what the security groups say.' : `${problems.join('; ')}.`}`);
  return problems.length === 0 ? 0 : 1;
}

interface DescribedGroup {
  readonly GroupId: string;
  readonly GroupName: string;
  readonly OwnerId?: string;
  readonly IpPermissions?: readonly unknown[];
}

/**
 * The EC2 API as a tenant sees it: the AWS CLI with the lab tenant's key
 * lists the tenant's security groups, which are only its own `default`
 * (web and db belong to the admin account). Skipped, with the command to run,
 * when the AWS CLI is not installed. Returns the problems.
 */
async function ec2Extras(state: LabState, deps: Pick<DemoDeps, 'out' | 'exec'>): Promise<string[]> {
  const { out } = deps;
  const ec2 = state.ec2;
  out("\n== The EC2 API: the lab's tenant account with the AWS CLI");
  if (!ec2?.tenant) {
    out('  skipped: this lab has no EC2 tenant');
    return [];
  }
  out(`$ AWS_SHARED_CREDENTIALS_FILE=${ec2.tenant.credentialsFile} aws ec2 describe-security-groups --endpoint-url ${ec2.url} --region ${ec2.region}`);
  if (!existsSync(AWS_CLI)) {
    out(`  skipped: ${AWS_CLI} is not installed (Debian package awscli; scripts/setup.sh installs it)`);
    return [];
  }
  const r = await tenantAws(state, deps.exec, ['describe-security-groups']);
  if (r.exitCode !== 0) {
    out(`  exit ${r.exitCode}: ${r.stderr.trim()}`);
    return ['the EC2 endpoint did not answer the tenant'];
  }
  const groups = ((JSON.parse(r.stdout) as { SecurityGroups?: DescribedGroup[] }).SecurityGroups ?? []);
  for (const g of groups) out(`  ${g.GroupId} ${g.GroupName} (account ${g.OwnerId ?? '?'}): ${g.IpPermissions?.length ?? 0} ingress permission(s)`);
  out(`  account ${ec2.tenant.name} sees only its own groups; web and db belong to the admin account.`);
  return groups.length === 1 && groups[0]!.GroupName === 'default' ? [] : [`the tenant saw ${groups.map((g) => g.GroupName).join(', ') || 'no group'} instead of only its default group`];
}

/**
 * The client fetches web1 over IPv6 (its global address: public IPv6 has no
 * NAT, the ::/0 rule admits port 80), and web1 reads its own `ipv6` from the
 * metadata service over IPv6. Returns the problems (none when web1 has no
 * IPv6 address at all: the matrix already says why).
 */
async function ipv6Extras(o: { vm: DemoVm; clientNs: string; clientIp: string; web1Ns: string; topo: ReturnType<typeof labTopology>; out: (t: string) => void }): Promise<string[]> {
  const { vm, out, topo } = o;
  out('\n== IPv6: from the client to web1\'s global address, and metadata over IPv6');
  if (!vm.ipv6) {
    out(`  skipped: web1 has no IPv6 address (${vm.ipv6Error ?? 'unknown'})`);
    return [];
  }
  const problems: string[] = [];
  const url = `http://[${vm.ipv6}]/`;
  const reply = await httpGet(topo.netns, o.clientNs, url, 3);
  out(`$ curl -g '${url}'   (from ${o.clientNs}, ${o.clientIp})\n  ${reply ? `HTTP ${reply.status}: ${reply.body.trim()}` : 'no answer'}`);
  if (reply?.status !== 200) problems.push("the client did not reach web1's global IPv6 address");
  const metaUrl = `http://[${IPV6_METADATA_ADDRESS}]/latest/meta-data/ipv6`;
  const meta = await httpGet(topo.netns, o.web1Ns, metaUrl, 3);
  out(`$ curl -g '${metaUrl}'   (from web1)\n  ${meta ? (meta.status === 200 ? meta.body.trim() : `HTTP ${meta.status}: ${meta.body.trim()}`) : 'no answer'}`);
  if (meta?.status !== 200 || meta.body.trim() !== vm.ipv6) problems.push(`metadata over IPv6 did not answer web1's address ${vm.ipv6}`);
  return problems;
}

/** The demo's db echo rule in a ROUTED lab: the /24 covering the lab's Ipv4Pool (plan.ts LAB_ROUTED). */
const ROUTED_ECHO_CIDR = '10.50.0.0/24';

/**
 * ROUTED: the routes the upstream router learned over BGP (BIRD's table and
 * its kernel), next to the matrix, with the node each came from. Returns the
 * problems: an instance address the router does not route to the instance's
 * node, or a learned route that is no instance's.
 */
async function printRouterRoutes(state: LabState, vms: readonly DemoVm[], elastic: string, deps: Pick<DemoDeps, 'out' | 'exec'>): Promise<string[]> {
  const { out } = deps;
  const plan = state.plan;
  const r = plan.routed!;
  out(`\n== Routes the upstream router learned over BGP (${plan.prefix}-${r.router.short}, AS ${r.router.asn})`);
  out(`$ birdc -s ${r.router.ctl} show route`);
  const table = await birdc(plan, ['show', 'route'], deps).catch((e: unknown) => `  (birdc failed: ${errorMessage(e)})`);
  out(table.split('\n').filter((l) => l.trim() !== '').map((l) => `  ${l}`).join('\n'));
  out(`$ ip -n ${plan.prefix}-${r.router.short} route show proto bird   (and -6)`);
  const kernel = await routerKernelRoutes(plan, deps);
  const nodeOf = (via: string) => plan.nodes.find((n) => n.mgmtIp === via || n.mgmtIpv6 === via)?.short;
  const expected = new Map<string, string>();
  for (const vm of vms) {
    const node = plan.nodes[vm.node]!.short;
    if (vm.view!.privateIp) expected.set(`${vm.view!.privateIp}/32`, node);
    if (vm.ipv6) expected.set(`${vm.ipv6}/128`, node);
  }
  expected.set(`${elastic}/32`, plan.nodes[vms[0]!.node]!.short);
  const problems: string[] = [];
  for (const route of kernel) {
    const owner = [...vms].find((v) => `${v.view!.privateIp}/32` === route.prefix || `${v.ipv6}/128` === route.prefix)?.label ?? (route.prefix === `${elastic}/32` ? 'web1 (elastic)' : undefined);
    const from = nodeOf(route.via);
    out(`  ${route.prefix.padEnd(40)} via ${route.via.padEnd(18)} ${from ? `node ${from}` : 'not a node'}  ${owner ?? '(no instance of the demo)'}`);
    const want = expected.get(route.prefix.replace(/^(.*)\/(32|128)$/, '$1/$2'));
    if (route.prefix === '0.0.0.0/0' || route.prefix === '::/0') problems.push(`the router installed a default route (${route.prefix})`);
    else if (want === undefined) problems.push(`the router learned ${route.prefix}, which is no instance's`);
    else if (want !== from) problems.push(`the router routes ${route.prefix} to ${from ?? route.via}, not to ${want}`);
  }
  for (const [prefix, node] of expected) if (!kernel.some((k) => k.prefix === prefix)) problems.push(`the router has no route for ${prefix} (on ${node})`);
  if (problems.length === 0) out(`  every instance address is routed to its node, and nothing else was learned.`);
  return problems;
}

async function printStatus(state: LabState, api: ApiClient, deps: Pick<DemoDeps, 'out' | 'edgenet'>): Promise<void> {
  const { out } = deps;
  out('$ edgenet status');
  const code = await deps.edgenet(['status'], labApiEnv(state));
  // 0 converged, 1 not converged (both printed the table); anything else: the command is unavailable.
  if (code === 0 || code === 1) return;
  // Fallback: the same view from the API.
  const s = await api.request<StatusView>('GET', '/v1/status');
  out(`  current: sequence ${s.current?.sequence ?? '-'} version ${s.current?.version ?? '-'} — ${s.converged ? 'converged' : 'NOT converged'}`);
  for (const c of s.clusters) for (const n of c.nodes) out(`  ${c.name} ${n.name}: applied ${n.appliedSequence ?? '-'} ${n.converged ? 'converged' : `lag ${n.lagSequences}`}`);
}

type Family = 'ipv4' | 'ipv6';

/** One family's half of a matrix row: what to probe, the source the destination sees, or why there is nothing to probe. */
type Leg = { readonly ip: string; readonly seenIp: string } | { readonly none: string };

interface MatrixRow {
  readonly from: string;
  readonly fromNs: string;
  readonly fromGroups: string[];
  readonly to: string;
  readonly toGroups: string[];
  readonly service: Service;
  readonly legs: Readonly<Record<Family, Leg>>;
}

interface Cell {
  readonly expected?: 'allowed' | 'blocked';
  readonly seen?: 'allowed' | 'blocked';
  readonly reason: string;
}

/**
 * The matrix: every ordered pair of instances and the client → each
 * instance, on every service, with an IPv4 and (dual-stack) an IPv6 verdict
 * per row. Returns the probes that disagreed and the instances without IPv6.
 */
async function printMatrix(o: {
  state: LabState;
  vms: readonly DemoVm[];
  groups: readonly MatrixGroup[];
  publicIp: string;
  out: (t: string) => void;
  topo: ReturnType<typeof labTopology>;
}): Promise<{ mismatches: number; unavailable: string[] }> {
  const { vms, groups, out, topo } = o;
  const plan = o.state.plan;
  const dual = plan.ipv6 !== undefined;
  const families: Family[] = dual ? ['ipv4', 'ipv6'] : ['ipv4'];
  const groupId = (name: string) => groups.find((g) => g.name === name)?.id ?? name;
  const v6Leg = (src: { ip?: string; label: string; error?: string }, dst: DemoVm): Leg => {
    if (!dst.ipv6) return { none: `${dst.label} has no IPv6 address: ${dst.ipv6Error ?? 'unknown'}` };
    if (!src.ip) return { none: `${src.label} has no IPv6 address: ${src.error ?? 'unknown'}` };
    return { ip: dst.ipv6, seenIp: src.ip };
  };
  const rows: MatrixRow[] = [];
  for (const src of vms) {
    for (const dst of vms) {
      if (src === dst) continue;
      for (const service of SERVICES) {
        rows.push({
          from: src.label, fromNs: topo.instanceNs(src.view!.id), fromGroups: [groupId(src.group)],
          to: dst.label, toGroups: [groupId(dst.group)], service,
          legs: {
            ipv4: dst.view!.privateIp && src.view!.privateIp ? { ip: dst.view!.privateIp, seenIp: src.view!.privateIp } : { none: `${dst.view!.privateIp ? src.label : dst.label} has no IPv4 address` },
            ipv6: v6Leg({ label: src.label, ...(src.ipv6 ? { ip: src.ipv6 } : {}), ...(src.ipv6Error ? { error: src.ipv6Error } : {}) }, dst),
          },
        });
      }
    }
  }
  // The client: IPv4 reaches only web1's public address (the others have none: private addresses
  // are not routed from outside); IPv6 reaches every instance's global address (no NAT).
  // ROUTED: every routed address is reachable from the client through the router (no NAT either),
  // so the client probes each instance's routed IPv4 and, for web1, its elastic /32 too.
  if (plan.routed) {
    for (const dst of vms) {
      for (const service of SERVICES) {
        rows.push({
          from: 'client', fromNs: topo.clientNs!, fromGroups: [], to: dst.label, toGroups: [groupId(dst.group)], service,
          legs: {
            ipv4: dst.view!.privateIp ? { ip: dst.view!.privateIp, seenIp: plan.clientIp } : { none: `${dst.label} has no IPv4 address` },
            ipv6: v6Leg({ label: 'client', ...(plan.ipv6 ? { ip: plan.ipv6.clientIp } : {}) }, dst),
          },
        });
      }
    }
  }
  for (const dst of plan.routed ? vms.slice(0, 1) : dual ? vms : vms.slice(0, 1)) {
    for (const service of SERVICES) {
      rows.push({
        from: 'client', fromNs: topo.clientNs!, fromGroups: [],
        to: dst === vms[0] ? `${dst.label} (public)` : dst.label, toGroups: [groupId(dst.group)], service,
        legs: {
          ipv4: dst === vms[0] ? { ip: o.publicIp, seenIp: plan.clientIp } : { none: 'no public address' },
          ipv6: plan.routed ? { none: 'the elastic address is IPv4' } : v6Leg({ label: 'client', ...(plan.ipv6 ? { ip: plan.ipv6.clientIp } : {}) }, dst),
        },
      });
    }
  }
  // A few probes at a time: dozens of concurrent 1 s probes on a busy machine would time out for load, not rules.
  const jobs = rows.flatMap((row) => families.map((family) => ({ row, family })));
  const cells = await mapLimit(jobs, 8, async ({ row, family }): Promise<Cell> => {
    const leg = row.legs[family];
    if ('none' in leg) return { reason: leg.none };
    const verdict = expectVerdict({ groups, src: { name: row.from, groups: row.fromGroups }, dst: { name: row.to, groups: row.toGroups }, seenSourceIp: leg.seenIp, service: row.service });
    const expected = verdict.allow ? 'allowed' : 'blocked';
    const seen = await probeExpecting(topo.netns, { from: row.fromNs, ip: leg.ip, service: row.service }, expected);
    return { expected, seen, reason: verdict.reason };
  });

  out(`\n== Connectivity matrix (expected from the groups, observed with real packets${dual ? '; IPv4 and IPv6 side by side' : ''})`);
  if (dual) {
    out('  addresses: ' + vms.map((v) => `${v.label} ${v.view!.privateIp} ${v.ipv6 ?? '(no IPv6)'}`).join(' · ') + ` · client ${plan.clientIp} ${plan.ipv6!.clientIp} · web1 public ${o.publicIp}`);
  }
  const w = { from: 7, to: 18, svc: 9, cell: 18 };
  const head = families.map((f) => `${f === 'ipv4' ? 'IPv4' : 'IPv6'} EXP/OBS`.padEnd(w.cell)).join(' ');
  out(`${'FROM'.padEnd(w.from)} ${'TO'.padEnd(w.to)} ${'SERVICE'.padEnd(w.svc)} ${head} WHY`);
  let mismatches = 0;
  const unavailable = new Set<string>();
  rows.forEach((row, i) => {
    const rowCells = families.map((_, k) => cells[i * families.length + k]!);
    const text = rowCells.map((c) => {
      if (!c.expected) return 'n/a'.padEnd(w.cell);
      const match = c.expected === c.seen;
      if (!match) mismatches++;
      return `${c.expected}/${match ? c.seen : `${c.seen}(!)`}`.padEnd(w.cell);
    });
    rowCells.forEach((c, k) => {
      if (!c.expected && families[k] === 'ipv6') for (const v of vms) if (!v.ipv6 && c.reason.startsWith(`${v.label} `)) unavailable.add(`${v.label} (${v.ipv6Error ?? 'unknown'})`);
    });
    const reasons = rowCells.map((c) => c.reason);
    const why = reasons.every((r) => r === reasons[0]) ? reasons[0]! : reasons.map((r, k) => `${families[k] === 'ipv4' ? 'v4' : 'v6'}: ${r}`).join(' | ');
    out(`${row.from.padEnd(w.from)} ${row.to.padEnd(w.to)} ${serviceLabel(row.service).padEnd(w.svc)} ${text.join(' ')} ${why}`);
  });
  return { mismatches, unavailable: [...unavailable] };
}
