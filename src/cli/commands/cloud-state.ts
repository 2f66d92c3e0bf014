/**
 * Cloud state commands against a running cloud controller: `cluster`, `node`,
 * `instance`, `ipam`, `group` (euca-authorize flags) and `address`. Each is a
 * thin call of the admin API. Every command takes `--json` (the API's answer,
 * or the error object); list commands take `--output table|tsv|json`
 * (output.ts). The server validates everything and answers errors with stable
 * codes.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { usageError, type CliContext } from '../context.ts';
import { errorMessage } from '../../shared/errors.ts';
import { USER_DATA_MAX_BYTES } from '../../cloud-controller/services/args.ts';
import { addApiOptions, apiClient, type ApiOptions } from '../api-client.ts';
import { addJsonOption, addListOptions, outputFormat, printJson, printList, type OutputOptions } from '../output.ts';
import { formatIp, parseRangeEntry, rangeSize } from '../../shared/ip.ts';
// The admin API serializes these service views as they are: the CLI reads the same types.
import type { ClusterView, NodeView } from '../../cloud-controller/services/clusters.ts';
import type { InstanceView } from '../../cloud-controller/services/instances.ts';
import type { GroupView, RuleView } from '../../cloud-controller/services/groups.ts';
import type { AddressView, AssociateResult } from '../../cloud-controller/services/addresses.ts';
import type { IpamView } from '../../cloud-controller/services/ipam.ts';

type Opts = ApiOptions & OutputOptions;
const enc = encodeURIComponent;

export { table } from '../output.ts';

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--user-data-file`: the file's bytes as the API takes them (base64); too large is refused before anything is sent. */
async function userDataOf(file: string): Promise<string> {
  const unreadable = (err: unknown) => usageError('FILE_UNREADABLE', `cannot read the user data file ${file}: ${errorMessage(err)}`);
  const tooLarge = () => usageError('InvalidParameterValue', `${file}: user data is limited to ${USER_DATA_MAX_BYTES} bytes`);
  // Size first: a mistaken path to a large file is not read whole.
  const { size } = await stat(file).catch((err: unknown) => { throw unreadable(err); });
  if (size > USER_DATA_MAX_BYTES) throw tooLarge();
  const bytes = await readFile(file).catch((err: unknown) => { throw unreadable(err); });
  if (bytes.length > USER_DATA_MAX_BYTES) throw tooLarge();
  return bytes.toString('base64');
}

export function describeRule(r: Omit<RuleView, 'protocol'>): string {
  const what = r.fromPort !== undefined ? `${r.protocolName} ${r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`}` : r.icmpType !== undefined ? `${r.protocolName} ${r.icmpType}:${r.icmpCode}` : r.protocolName;
  const from =
    r.cidr !== undefined
      ? `from ${r.cidr}`
      : `from group ${r.sourceGroupId}${r.sourceGroupName ? ` (${r.sourceGroupName})` : ''}${r.sourceGroupOwnerId ? ` of ${r.sourceGroupOwnerId}` : ''}${r.sourceGroupDeleted ? ' [deleted group: not broadcast]' : ''}`;
  return `${what} ${from}`;
}

/** Splits a pool map into lines of `width` addresses, each labelled with its first address. */
export function mapLines(ranges: readonly string[], map: string, width = 64): string[] {
  const parsed = ranges.map(parseRangeEntry).filter((r) => r !== undefined);
  const ipAt = (offset: number): number => {
    for (const r of parsed) {
      const size = rangeSize(r);
      if (offset < size) return r.lo + offset;
      offset -= size;
    }
    return 0;
  };
  const lines: string[] = [];
  for (let off = 0; off < map.length; off += width) lines.push(`  ${formatIp(ipAt(off)).padEnd(15)} ${map.slice(off, off + width)}`);
  return lines;
}

export function registerCloudState(program: Command, ctx: CliContext): void {
  const api = (opts: ApiOptions) => apiClient(ctx, opts);
  /** A command that prints one result: API options and --json. */
  const one = (cmd: Command) => addJsonOption(addApiOptions(cmd));
  /** A list command: API options, --output and --json. */
  const many = (cmd: Command) => addListOptions(addApiOptions(cmd));

  // ---- clusters
  const cluster = program.command('cluster').description('clusters (one cluster controller each)');
  one(
    cluster
      .command('register')
      .description('register a cluster; it must also be listed in cloud.network.network_configuration to receive instances')
      .argument('<name>')
      .requiredOption('--cc <URL>', "the cluster controller's SOAP endpoint: https://HOST:PORT/, e.g. https://10.0.0.6:8774/")
      .option('--cc-ip <IP>', "the CC host's address (GNI enabledCCIp; default: the URL's host if it is an address)"),
  ).action(async (name: string, opts: Opts & { cc: string; ccIp?: string }) => {
    const c = await api(opts).request<ClusterView>('POST', '/v1/clusters', { name, ccUrl: opts.cc, ...(opts.ccIp ? { ccIp: opts.ccIp } : {}) });
    if (opts.json) printJson(ctx, c);
    else ctx.out(`CLUSTER\t${c.name}\t${c.ccUrl}\t${c.ccIp}`);
  });
  one(
    cluster
      .command('update')
      .description("change a cluster's CC URL (and address) without touching its nodes or instances")
      .argument('<name>')
      .option('--cc <URL>', 'the new SOAP endpoint: https://HOST:PORT/')
      .option('--cc-ip <IP>', "the CC host's address (default: the new URL's host if it is an address)"),
  ).action(async (name: string, opts: Opts & { cc?: string; ccIp?: string }) => {
    const c = await api(opts).request<ClusterView>('PATCH', `/v1/clusters/${enc(name)}`, { ...(opts.cc ? { ccUrl: opts.cc } : {}), ...(opts.ccIp ? { ccIp: opts.ccIp } : {}) });
    if (opts.json) printJson(ctx, c);
    else ctx.out(`CLUSTER\t${c.name}\t${c.ccUrl}\t${c.ccIp}`);
  });
  many(cluster.command('list').description('list clusters and their nodes')).action(async (opts: Opts) => {
    const format = outputFormat(opts);
    const { clusters } = await api(opts).request<{ clusters: ClusterView[] }>('GET', '/v1/clusters');
    printList(ctx, format, {
      json: clusters,
      header: ['CLUSTER', 'CC URL', 'CC IP', 'NODES'],
      rows: clusters.map((c) => [c.name, c.ccUrl, c.ccIp, c.nodes.map((n) => n.name).join(',') || '-']),
      empty: 'no clusters registered',
    });
  });
  one(cluster.command('deregister').description('deregister a cluster and its nodes (refused while it has instances)').argument('<name>')).action(async (name: string, opts: Opts) => {
    const r = await api(opts).request('DELETE', `/v1/clusters/${enc(name)}`);
    if (opts.json) printJson(ctx, r);
    else ctx.out(`deregistered cluster ${name}`);
  });

  // ---- nodes
  const node = program.command('node').description('nodes (one node controller + netd each), named by their IPv4 address');
  one(
    node
      .command('register')
      .description('register a node of a cluster')
      .argument('<cluster>')
      .argument('<node>', "the node's IPv4 address (its name in the GNI, as Eucalyptus registers nodes)")
      .requiredOption('--nc <URL>', "the node controller's SOAP endpoint: https://HOST:PORT/"),
  ).action(async (clusterName: string, nodeName: string, opts: Opts & { nc: string }) => {
    const n = await api(opts).request<NodeView>('POST', `/v1/clusters/${enc(clusterName)}/nodes`, { name: nodeName, ncUrl: opts.nc });
    if (opts.json) printJson(ctx, n);
    else ctx.out(`NODE\t${n.cluster}\t${n.name}\t${n.ncUrl}`);
  });
  one(
    node
      .command('update')
      .description("change a node's NC URL without touching its instances")
      .argument('<node>', "the node's address")
      .requiredOption('--nc <URL>', 'the new SOAP endpoint: https://HOST:PORT/'),
  ).action(async (nodeName: string, opts: Opts & { nc: string }) => {
    const n = await api(opts).request<NodeView>('PATCH', `/v1/nodes/${enc(nodeName)}`, { ncUrl: opts.nc });
    if (opts.json) printJson(ctx, n);
    else ctx.out(`NODE\t${n.cluster}\t${n.name}\t${n.ncUrl}`);
  });
  many(node.command('list').description('list nodes with their instance count and applied document').option('--cluster <C>', 'only this cluster')).action(async (opts: Opts & { cluster?: string }) => {
    const format = outputFormat(opts);
    const { nodes } = await api(opts).request<{ nodes: NodeView[] }>('GET', `/v1/nodes${query({ cluster: opts.cluster })}`);
    printList(ctx, format, {
      json: nodes,
      header: ['CLUSTER', 'NODE', 'NC URL', 'INSTANCES', 'APPLIED'],
      rows: nodes.map((n) => [n.cluster, n.name, n.ncUrl, String(n.instances), n.applied ? `seq ${n.applied.sequence ?? '-'} ${n.applied.version ?? ''} at ${n.applied.at}` : '-']),
      empty: 'no nodes registered',
    });
  });
  one(node.command('deregister').description('deregister a node (refused while it hosts instances)').argument('<cluster>').argument('<node>')).action(
    async (clusterName: string, nodeName: string, opts: Opts) => {
      const r = await api(opts).request('DELETE', `/v1/clusters/${enc(clusterName)}/nodes/${enc(nodeName)}`);
      if (opts.json) printJson(ctx, r);
      else ctx.out(`deregistered node ${nodeName} of cluster ${clusterName}`);
    },
  );

  // ---- instances
  const instance = program.command('instance').description('instances: id, MAC, private IP, groups');
  const printInstance = (i: InstanceView) =>
    ctx.out(`INSTANCE\t${i.id}\t${i.cluster}\t${i.node}\t${i.mac}\t${i.privateIp ?? '-'}\t${i.publicIp ?? '-'}\t${i.groups.join(',')}\t${i.interface}${i.ipv6 !== undefined ? `\t${i.ipv6}` : ''}`);
  one(
    instance
      .command('run')
      .description('reserve an instance id, a MAC and a private IP on a node (no IPv4 on an IPv6-only ROUTED cluster)')
      .option('--cluster <C>', 'cluster (may be left out when the network configuration lists one)')
      .option('--node <N>', "node (its address; default: the cluster's node with the fewest instances)")
      .requiredOption('--group <G>', 'security group id or name (repeat for several)', collect)
      .option('--owner <ACCOUNT>', 'account id or name (default: the admin account)')
      .option('--private-ip <IP>', 'ask for this private address')
      .option('--mac <MAC>', "ask for this MAC (unicast, in the cluster's MacPrefix; its EUI-64 is the instance's IPv6 address): re-create an instance elsewhere with its addresses")
      .option('--user-data-file <PATH>', `the instance's user data (at most ${USER_DATA_MAX_BYTES} bytes; metadata user-data, ROUTED config drive)`),
  ).action(async (opts: Opts & { cluster?: string; node?: string; group: string[]; owner?: string; privateIp?: string; mac?: string; userDataFile?: string }) => {
    const userData = opts.userDataFile === undefined ? undefined : await userDataOf(opts.userDataFile);
    const i = await api(opts).request<InstanceView>('POST', '/v1/instances', {
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.node ? { node: opts.node } : {}),
      groups: opts.group,
      ...(opts.owner ? { owner: opts.owner } : {}),
      ...(opts.privateIp ? { privateIp: opts.privateIp } : {}),
      ...(opts.mac ? { mac: opts.mac } : {}),
      ...(userData !== undefined ? { userData } : {}),
    });
    if (opts.json) printJson(ctx, i);
    else printInstance(i);
  });
  one(instance.command('terminate').description('terminate an instance: its private IP is held until its node converged').argument('<id>')).action(async (id: string, opts: Opts) => {
    const r = await api(opts).request<{ terminated: InstanceView }>('DELETE', `/v1/instances/${enc(id)}`);
    if (opts.json) printJson(ctx, r);
    else if (r.terminated.privateIp === undefined) ctx.out(`terminated ${r.terminated.id} (it had no private IP: IPv6-only)`);
    else ctx.out(`terminated ${r.terminated.id} (private IP ${r.terminated.privateIp} held until ${r.terminated.node} converges)`);
  });
  one(instance.command('show').description('one instance: id, cluster, node, MAC, private IP, public IP, groups, interface, and its IPv6 address on a dual-stack cluster').argument('<id>')).action(
    async (id: string, opts: Opts) => {
      const i = await api(opts).request<InstanceView>('GET', `/v1/instances/${enc(id)}`);
      if (opts.json) printJson(ctx, i);
      else printInstance(i);
    },
  );
  many(instance.command('list').description('list instances').option('--cluster <C>').option('--node <N>').option('--owner <ACCOUNT>', 'only this account (id or name)')).action(
    async (opts: Opts & { cluster?: string; node?: string; owner?: string }) => {
      const format = outputFormat(opts);
      const { instances } = await api(opts).request<{ instances: InstanceView[] }>('GET', `/v1/instances${query({ cluster: opts.cluster, node: opts.node, owner: opts.owner })}`);
      // The IPV6 column comes last and only when some instance listed is dual-stack: an IPv4-only cloud lists as before.
      const v6 = instances.some((i) => i.ipv6 !== undefined);
      printList(ctx, format, {
        json: instances,
        header: ['INSTANCE', 'OWNER', 'CLUSTER', 'NODE', 'MAC', 'PRIVATE IP', 'PUBLIC IP', 'GROUPS', ...(v6 ? ['IPV6'] : [])],
        rows: instances.map((i) => [i.id, i.ownerId, i.cluster, i.node, i.mac, i.privateIp ?? '-', i.publicIp ?? '-', i.groups.join(','), ...(v6 ? [i.ipv6 ?? '-'] : [])]),
        empty: 'no instances',
      });
    },
  );

  // ---- ipam
  const ipam = program.command('ipam').description('address pools, holds and external reservations');
  one(ipam.command('show').description('pools with their ranges and a map: X allocated, . free, r reserved, h held').option('--cluster <C>', 'only this cluster')).action(
    async (opts: Opts & { cluster?: string }) => {
      const view = await api(opts).request<IpamView>('GET', `/v1/ipam${query({ cluster: opts.cluster })}`);
      if (opts.json) return printJson(ctx, view);
      if (view.pools.length === 0) ctx.out('no pools: cloud.network.network_configuration is not set');
      ctx.out(`allocation: ${view.strategy}`);
      for (const p of view.pools) {
        ctx.out(`\n${p.pool}  ranges ${p.ranges.join(', ') || '-'}`);
        ctx.out(`  size ${p.size}  allocated ${p.allocated}  held ${p.held}  reserved ${p.reserved}  free ${p.free}`);
        if (p.map !== undefined) for (const line of mapLines(p.ranges, p.map)) ctx.out(line);
        else ctx.out('  (map omitted: pool too large)');
      }
      if (view.holds.length > 0) {
        ctx.out('\nheld (released, waiting for convergence or time-out):');
        for (const h of view.holds) ctx.out(`  ${h.ip}  nodes ${h.nodes.join(',')}  released ${h.releasedAt}  expires ${h.expiresAt}${h.documentSequence !== undefined ? `  absent from document ${h.documentSequence}` : ''}`);
      }
      if (view.reservations.length > 0) {
        ctx.out('\nreserved:');
        for (const r of view.reservations) ctx.out(`  ${r.ip}${r.note ? `  ${r.note}` : ''}`);
      }
      if (view.outsidePools.length > 0) {
        ctx.out('\noutside every pool of the current configuration (kept, not moved):');
        for (const o of view.outsidePools) ctx.out(`  ${o.ip}  ${o.state}${o.holder ? ` by ${o.holder}` : ''}  (was ${o.pool})`);
      }
      for (const v of view.ipv6 ?? []) {
        ctx.out(`\nipv6 cluster:${v.cluster}  prefix ${v.prefix}  dns ${v.dnsServers.join(', ') || '-'}  (EUI-64 of each MAC: nothing allocated or held)`);
        for (const i of v.instances) ctx.out(`  ${i.ipv6}  ${i.id}  ${i.mac}`);
        if (v.instances.length === 0) ctx.out('  (no instances)');
      }
    },
  );
  one(ipam.command('reserve').description('reserve an address of a pool: it is never handed out').argument('<ip>').option('--note <TEXT>', 'why')).action(
    async (ip: string, opts: Opts & { note?: string }) => {
      const r = await api(opts).request('POST', '/v1/ipam/reservations', { ip, ...(opts.note ? { note: opts.note } : {}) });
      if (opts.json) printJson(ctx, r);
      else ctx.out(`reserved ${ip}`);
    },
  );
  one(ipam.command('unreserve').description('remove an external reservation').argument('<ip>')).action(async (ip: string, opts: Opts) => {
    const r = await api(opts).request('DELETE', `/v1/ipam/reservations/${enc(ip)}`);
    if (opts.json) printJson(ctx, r);
    else ctx.out(`unreserved ${ip}`);
  });

  // ---- security groups
  const group = program.command('group').description('security groups and their ingress rules (EC2-Classic semantics)');
  const printGroup = (g: GroupView) => {
    ctx.out(`GROUP\t${g.id}\t${g.ownerId}\t${g.name}\t${g.description}`);
    for (const r of g.rules) ctx.out(`PERMISSION\t${g.id}\t${describeRule(r)}`);
  };
  one(
    group
      .command('create')
      .description('create a security group (id sg- + 8 hex)')
      .argument('<name>')
      .option('--owner <ACCOUNT>', 'account id or name (default: the admin account)')
      .option('--description <TEXT>', 'description'),
  ).action(async (name: string, opts: Opts & { owner?: string; description?: string }) => {
    const g = await api(opts).request<GroupView>('POST', '/v1/groups', { name, ...(opts.owner ? { owner: opts.owner } : {}), ...(opts.description !== undefined ? { description: opts.description } : {}) });
    if (opts.json) printJson(ctx, g);
    else printGroup(g);
  });
  one(group.command('delete').description('delete a security group (refused while an instance uses it)').argument('<group>', 'id or name').option('--owner <ACCOUNT>', 'account id or name the group must belong to (a name: default the admin account)')).action(
    async (ref: string, opts: Opts & { owner?: string }) => {
      const r = await api(opts).request<{ deleted: string }>('DELETE', `/v1/groups/${enc(ref)}${query({ owner: opts.owner })}`);
      if (opts.json) printJson(ctx, r);
      else ctx.out(`deleted ${r.deleted}`);
    },
  );
  many(group.command('list').description('list security groups with their rules').option('--owner <ACCOUNT>', 'only this account (id or name)')).action(async (opts: Opts & { owner?: string }) => {
    const format = outputFormat(opts);
    const { groups } = await api(opts).request<{ groups: GroupView[] }>('GET', `/v1/groups${query({ owner: opts.owner })}`);
    printList(ctx, format, {
      json: groups,
      header: ['GROUP', 'OWNER', 'NAME', 'RULES', 'DESCRIPTION'],
      rows: groups.map((g) => [g.id, g.ownerId, g.name, g.rules.map(describeRule).join('; ') || '-', g.description]),
      empty: 'no security groups',
    });
  });
  one(group.command('show').description('show one security group').argument('<group>', 'id or name').option('--owner <ACCOUNT>', 'account id or name the group must belong to (a name: default the admin account)')).action(async (ref: string, opts: Opts & { owner?: string }) => {
    const g = await api(opts).request<GroupView>('GET', `/v1/groups/${enc(ref)}${query({ owner: opts.owner })}`);
    if (opts.json) printJson(ctx, g);
    else printGroup(g);
  });
  for (const verb of ['authorize', 'revoke'] as const) {
    one(
      group
        .command(verb)
        .description(`${verb} an ingress permission (euca-${verb} flags)`)
        .argument('<group>', 'id or name')
        .option('-P, --protocol <PROTO>', 'tcp, udp, icmp, icmpv6 or a protocol number (default tcp)')
        .option('-p, --port-range <PORTS>', 'port or FROM-TO; -1 = all ports')
        .option('-t, --icmp-type-code <TYPE:CODE>', 'icmp or icmpv6 type and code; -1 = any')
        .option('-s, --cidr <CIDR>', 'source network, IPv4 or IPv6 (default 0.0.0.0/0; ::/0 for icmpv6)')
        .option('-o, --source-group <GROUP>', "source security group (id or name): its members' IPv4 and IPv6 addresses")
        .option('-u, --source-group-user <ACCOUNT>', "source group's owner account")
        .option('--owner <ACCOUNT>', 'account id or name of the target group (a name: default the admin account)'),
    ).action(
      async (
        ref: string,
        opts: Opts & { protocol?: string; portRange?: string; icmpTypeCode?: string; cidr?: string; sourceGroup?: string; sourceGroupUser?: string; owner?: string },
      ) => {
        const permission = {
          ...(opts.protocol !== undefined ? { protocol: opts.protocol } : {}),
          ...(opts.portRange !== undefined ? { port: opts.portRange } : {}),
          ...(opts.icmpTypeCode !== undefined ? { icmp: opts.icmpTypeCode } : {}),
          ...(opts.cidr !== undefined ? { cidr: opts.cidr } : {}),
          ...(opts.sourceGroup !== undefined ? { sourceGroup: opts.sourceGroup } : {}),
          ...(opts.sourceGroupUser !== undefined ? { sourceAccount: opts.sourceGroupUser } : {}),
        };
        const r = await api(opts).request<{ group: GroupView; changed: boolean; added?: RuleView[]; removed?: RuleView[] }>(
          'POST',
          `/v1/groups/${enc(ref)}/${verb}${query({ owner: opts.owner })}`,
          permission,
        );
        if (opts.json) return printJson(ctx, r);
        const touched = r.added ?? r.removed ?? [];
        if (!r.changed) ctx.out(`GROUP\t${r.group.id}\tunchanged (identical permission already present)`);
        for (const rule of touched) ctx.out(`PERMISSION\t${r.group.id}\t${verb === 'authorize' ? 'ALLOWS' : 'REVOKED'}\t${describeRule(rule)}`);
      },
    );
  }

  // ---- public addresses
  const address = program.command('address').description('public (elastic) addresses');
  one(address.command('allocate').description('allocate a public address to an account').option('--owner <ACCOUNT>', 'account id or name (default: the admin account)').option('--ip <IP>', 'ask for this address')).action(
    async (opts: Opts & { owner?: string; ip?: string }) => {
      const a = await api(opts).request<AddressView>('POST', '/v1/addresses', { ...(opts.owner ? { owner: opts.owner } : {}), ...(opts.ip ? { ip: opts.ip } : {}) });
      if (opts.json) printJson(ctx, a);
      else ctx.out(`ADDRESS\t${a.ip}\t${a.ownerId}`);
    },
  );
  one(
    address
      .command('associate')
      .description('associate a public address with an instance of the same account; an address already associated moves (EC2-Classic)')
      .argument('<ip>')
      .argument('<instance>')
      .option('--owner <ACCOUNT>', 'act as this account, id or name (the address and the instance must be its own)'),
  ).action(async (ip: string, inst: string, opts: Opts & { owner?: string }) => {
    const a = await api(opts).request<AssociateResult>('POST', `/v1/addresses/${enc(ip)}/associate`, { instance: inst, ...(opts.owner ? { owner: opts.owner } : {}) });
    if (opts.json) return printJson(ctx, a);
    ctx.out(`ADDRESS\t${a.ip}\t${a.instanceId}`);
    if (a.movedFrom) ctx.err(`note: ${a.ip} moved from ${a.movedFrom}`);
    if (a.replaced) ctx.err(`note: ${a.replaced} was disassociated from ${a.instanceId} (it stays allocated)`);
  });
  one(address.command('disassociate').description('disassociate a public address from its instance').argument('<ip>').option('--owner <ACCOUNT>', 'act as this account (id or name)')).action(
    async (ip: string, opts: Opts & { owner?: string }) => {
      const a = await api(opts).request<AddressView>('POST', `/v1/addresses/${enc(ip)}/disassociate`, opts.owner ? { owner: opts.owner } : {});
      if (opts.json) printJson(ctx, a);
      else ctx.out(`ADDRESS\t${a.ip}\tdisassociated`);
    },
  );
  one(address.command('release').description('give a public address back to the pool (disassociating it first)').argument('<ip>').option('--owner <ACCOUNT>', 'act as this account (id or name)')).action(
    async (ip: string, opts: Opts & { owner?: string }) => {
      const r = await api(opts).request<{ released: AddressView }>('DELETE', `/v1/addresses/${enc(ip)}${query({ owner: opts.owner })}`);
      if (opts.json) printJson(ctx, r);
      else ctx.out(`released ${r.released.ip}`);
    },
  );
  many(address.command('list').description('list allocated public addresses').option('--owner <ACCOUNT>', 'only this account (id or name)')).action(async (opts: Opts & { owner?: string }) => {
    const format = outputFormat(opts);
    const { addresses } = await api(opts).request<{ addresses: AddressView[] }>('GET', `/v1/addresses${query({ owner: opts.owner })}`);
    printList(ctx, format, {
      json: addresses,
      header: ['ADDRESS', 'OWNER', 'INSTANCE'],
      rows: addresses.map((a) => [a.ip, a.ownerId, a.instanceId ?? '-']),
      empty: 'no addresses allocated',
    });
  });
}
