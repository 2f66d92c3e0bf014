/**
 * `edgenet lab ...`: the whole cloud in network namespaces on this machine
 * (src/lab/, docs/lab.md). Needs root.
 *
 *   lab up [--name N] [--dir D] [--ipv4-only] [--db sqlite|postgres] [--mode edge|routed]
 *                                     namespaces, certificates, CLC + CC + NC + netd, registration (dual stack by default);
 *                                     --db postgres: PostgreSQL in the control namespace and two CLCs on it;
 *                                     --mode routed: a ROUTED cloud behind an upstream BGP router (issue 17)
 *   lab down [--name N] [--dir D]     removes every namespace, process and file the lab made
 *   lab status [--json]               namespaces, processes, convergence, the EC2 endpoint
 *   lab env                           `export EDGENET_URL=… EDGENET_TOKEN=…` for the host's CLI
 *   lab exec -- ARGS                  runs `edgenet ARGS` against the lab's CLC
 *   lab vm add ID [--json] | vm del ID
 *                                     attaches / detaches an instance namespace (dhclient; SLAAC on a dual-stack lab)
 *   lab sh NS -- CMD                  runs CMD inside a lab namespace (n1, n2, ctl, cl, lan, i-…)
 *   lab stop|kill|start|restart DAEMON [--node N] [--json]
 *                                     one daemon (clc, cc, nc, netd) of a running lab
 *   lab clc list [--json] | clc kill|stop|start|restart ID [--json]
 *                                     the CLCs of a two-CLC lab (clc-1, clc-2): which leads; kill = SIGKILL
 *   lab demo [--ipv4-only] [--mode edge|routed]
 *                                     the README's demo (scripts/demo.sh); routed: also the router's learned routes
 *   lab relay                         (internal) the admin API relay
 */
import type { Command } from 'commander';
import { CliExit, type CliContext, type RunCli } from '../context.ts';
import { createExec } from '../../shared/exec.ts';
import { UserError } from '../../shared/errors.ts';
import { interruptSignal } from '../../shared/daemon/signals.ts';
import { DEFAULT_LAB_NAME, defaultLabDir, LAB_MODES, labPlan, type LabMode } from '../../lab/plan.ts';
import { labUp, type LabDeps } from '../../lab/up.ts';
import { labDown } from '../../lab/down.ts';
import { labClcStatus, labStatus, type LabClcStatus, type LabStatusReport } from '../../lab/status.ts';
import { requireLabState } from '../../lab/state.ts';
import { labApiEnv, labApiFor } from '../../lab/api.ts';
import { labVmAdd, labVmDel, labTopology, type VmAddResult } from '../../lab/vm.ts';
import { parseEndpoint, startRelay } from '../../lab/relay.ts';
import { runDemo } from '../../lab/demo.ts';
import { ec2UsageLines } from '../../lab/ec2.ts';
import { LAB_DAEMON_ACTIONS, labDaemonAction, parseDaemonSelector } from '../../lab/daemon-control.ts';

interface LabFlags {
  name?: string;
  dir?: string;
}

function withLabOptions(cmd: Command): Command {
  return cmd
    .option('--name <N>', `lab name, 1-10 of [a-z0-9] (default ${DEFAULT_LAB_NAME}); namespaces are edgenet_<N>-*`)
    .option('--dir <D>', 'lab directory: state file, certificates, configs, logs (default <state dir>/lab/<N>)');
}

function requireRootUser(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UserError('LAB_NEEDS_ROOT', 'the lab creates network namespaces: run it as root');
  }
}

function deps(ctx: CliContext, signal?: AbortSignal): LabDeps {
  return { exec: createExec(), env: ctx.env, log: (line) => ctx.err(line), signal: signal ?? ctx.signal };
}

const nameOf = (f: LabFlags) => f.name ?? DEFAULT_LAB_NAME;

function formatVmAdd(r: VmAddResult): string {
  // EDGE: the DHCP lease; ROUTED: what the config drive said (no DHCP).
  const v4 = r.lease
    ? `ip ${r.lease.ip}/${r.lease.prefixLength} via ${r.lease.routers.join(',') || '-'}`
    : r.drive
      ? `config drive ${r.drive.file}: ${r.drive.network.addresses.join(' ') || 'no address'}, routes ${r.drive.network.routes.map((x) => `${x.to}${x.via ? ` via ${x.via}` : ''}`).join(', ') || '-'}`
      : 'no address';
  const v6 = !r.ipv6 || r.drive
    ? ''
    : r.ipv6.address
      ? `, ipv6 ${r.ipv6.address}/${r.ipv6.prefixLength ?? 64} via ${r.ipv6.routers.join(',') || '-'}${r.ipv6.dns.length ? ` dns ${r.ipv6.dns.join(',')}` : ''}`
      : `, ipv6 none (expected ${r.ipv6.expected}: ${r.ipv6.error ?? 'not configured'})`;
  return `${r.view.id}: namespace ${r.instance.ns}, ${r.instance.hostIf} on ${r.instance.nodeNs}, mac ${r.instance.mac}, ${v4}${v6}`;
}

function vmAddJson(r: VmAddResult): Record<string, unknown> {
  return {
    id: r.view.id,
    namespace: r.instance.ns,
    hostInterface: r.instance.hostIf,
    nodeNamespace: r.instance.nodeNs,
    mac: r.instance.mac,
    ipv4: r.lease ? { address: r.lease.ip, prefixLength: r.lease.prefixLength, routers: r.lease.routers, dns: r.lease.dns, ...(r.lease.domain ? { domain: r.lease.domain } : {}) } : null,
    ipv6: r.ipv6 ?? null,
    ...(r.drive ? { configDrive: { file: r.drive.file, ...r.drive.network } } : {}),
  };
}

/** `--mode`: edge (default) or routed; anything else is a usage error (exit 2). */
function parseMode(value: string | undefined): LabMode {
  const mode = (value ?? 'edge').toLowerCase();
  if (!(LAB_MODES as readonly string[]).includes(mode)) throw new CliExit(2, `error: --mode expects ${LAB_MODES.join(' or ')}, got ${JSON.stringify(value)}`);
  return mode as LabMode;
}

function formatClc(c: LabClcStatus): string {
  const state = !c.alive ? 'stopped' : c.role ? `${c.role}${c.roleSince ? ` since ${new Date(c.roleSince).toISOString()}` : ''}` : `not answering (${c.error ?? ''})`;
  const leader = c.alive && c.leader ? `; newest term ${c.leader.term}: ${c.leader.clcId} since ${new Date(c.leader.since).toISOString()}` : '';
  return `${c.id} ${c.alive ? `pid ${c.pid}` : '-'} ${state}${leader}  ${c.url}`;
}

function formatStatus(r: LabStatusReport): string {
  const lines = [`lab ${r.name}: ${r.phase} (dir ${r.dir}, namespaces ${r.prefix}-*)`];
  lines.push(`  namespaces: ${r.namespaces.length ? r.namespaces.join(' ') : '(none)'}`);
  for (const p of r.processes) {
    lines.push(`  ${p.alive ? 'running' : 'DEAD   '} ${p.role}${p.node ? ` ${p.node}` : ''} pid ${p.pid}${p.ns ? ` in ${p.ns}` : ' on the host'}  log ${p.log}`);
  }
  if (r.clcs) {
    const leaders = r.clcs.filter((c) => c.alive && c.role === 'leader').map((c) => c.id);
    lines.push(`  cloud controllers on PostgreSQL: ${leaders.length === 0 ? 'NO leader at the moment' : `${leaders.join(', ')} leads`}`);
    for (const c of r.clcs) lines.push(`    ${formatClc(c)}`);
  } else if (r.api?.status?.clc) {
    const v = r.api.status.clc;
    lines.push(`  cloud controller ${v.id}: ${v.role}${v.leader ? ` (term ${v.leader.term} since ${new Date(v.leader.since).toISOString()})` : ''}`);
  }
  if (r.router) {
    const sessions = r.router.sessions;
    lines.push(`  router ${r.router.ns} (BIRD, AS ${r.router.asn}): ${sessions ? `${sessions.filter((s) => s.established).length}/${sessions.length} BGP sessions established` : `unknown (${r.router.error ?? ''})`}`);
    for (const s of sessions ?? []) lines.push(`    ${s.node} ${s.family === 'ipv4' ? 'IPv4' : 'IPv6'}: ${s.state} ${s.info}`.trimEnd());
  }
  if (r.ec2) {
    lines.push(`  EC2 endpoint ${r.ec2.url}: ${r.ec2.reachable ? 'answering' : `NOT answering (${r.ec2.error ?? ''})`}${r.ec2.tenant ? `; account ${r.ec2.tenant.name} (${r.ec2.tenant.accountId}) key ${r.ec2.tenant.accessKeyId} in ${r.ec2.tenant.credentialsFile}` : ''}`);
  }
  if (r.api) {
    if (!r.api.reachable) lines.push(`  admin API ${r.api.url}: unreachable (${r.api.error ?? ''})`);
    else {
      const s = r.api.status!;
      lines.push(`  admin API ${r.api.url}: ${s.converged ? 'converged' : 'NOT converged'}${s.current ? ` at sequence ${s.current.sequence} version ${s.current.version}` : ' (no document yet)'}`);
      for (const c of s.clusters) {
        for (const n of c.nodes) {
          lines.push(`    ${c.name} ${n.name}: applied ${n.appliedSequence ?? '-'} ${n.converged ? 'converged' : `lag ${n.lagSequences} (${n.result}${n.lastError ? `: ${n.lastError}` : ''})`}`);
        }
      }
    }
  }
  return lines.join('\n');
}

/** `runCli` runs other edgenet commands (`lab exec`, the demo's `status`); main.ts passes it. */
export function registerLab(program: Command, ctx: CliContext, runCli: RunCli): void {
  const lab = program.command('lab').description('the whole cloud in network namespaces on this machine (root): up, down, status, vm, demo');

  withLabOptions(lab.command('up'))
    .description('create the lab: namespaces, certificates, CLC + CC in the control namespace, NC + netd per node; register them')
    .option('--no-wait', 'do not wait for every node to converge')
    .option('--ipv4-only', 'no IPv6 anywhere (the default is dual stack: cluster PARTI00 gets Ipv6Prefix 2001:db8:10::/64)')
    .option('--db <sqlite|postgres>', 'sqlite: one CLC on a SQLite file (default); postgres: a throwaway PostgreSQL server in the control namespace and two CLCs on it (clc-1, clc-2)', 'sqlite')
    .option('--mode <edge|routed>', 'edge (default); routed: a ROUTED cloud (routed /32 and /128 per instance, announced over BGP to an upstream router namespace; the client behind the router; instances configured from their config drive)', 'edge')
    .action(async (flags: LabFlags & { wait: boolean; ipv4Only?: boolean; db: string; mode: string }) => {
      requireRootUser();
      if (flags.db !== 'sqlite' && flags.db !== 'postgres') throw new CliExit(2, `error: --db expects sqlite or postgres, got ${JSON.stringify(flags.db)}`);
      const mode = parseMode(flags.mode);
      const { signal, dispose } = interruptSignal({ parent: ctx.signal });
      try {
        const state = await labUp({ name: nameOf(flags), ...(flags.dir ? { dir: flags.dir } : {}), convergeTimeoutMs: flags.wait ? 120_000 : 0, ipv4Only: flags.ipv4Only === true, db: flags.db, mode }, deps(ctx, signal));
        const env = labApiEnv(state);
        const rt = state.plan.routed;
        const what = rt
          ? `ROUTED: ${rt.ipv4Pool.join(', ')}${rt.ipv6Prefix ? ` and ${rt.ipv6Prefix}` : ''} routed over BGP to the router (edgenet lab sh --name ${state.plan.name} rt -- birdc -s ${rt.router.ctl} show route)`
          : state.plan.ipv6 ? `dual stack: ${state.plan.vmSubnet} and ${state.plan.ipv6.prefix}` : 'IPv4 only';
        ctx.out(`lab ${state.plan.name} is up (${what}). Use the cloud from this shell with:
  eval "$(edgenet lab env --name ${state.plan.name})"   # or: edgenet lab exec --name ${state.plan.name} -- status
  EDGENET_URL=${env.EDGENET_URL}${state.plan.clcs ? `\nCLCs ${state.plan.clcs.map((c) => c.id).join(', ')} on PostgreSQL: edgenet lab clc list|kill|start <id> --name ${state.plan.name}` : ''}
Attach an instance: edgenet instance run --cluster ${state.plan.cluster} --node ${state.plan.nodes[0]!.name} --group G, then edgenet lab vm add <id>
${ec2UsageLines(state).map((l) => `${l}\n`).join('')}Tear down: edgenet lab down --name ${state.plan.name}`);
      } finally {
        dispose();
      }
    });

  withLabOptions(lab.command('down'))
    .description('remove every namespace, process and file of the lab (also after a crash)')
    .action(async (flags: LabFlags) => {
      requireRootUser();
      await labDown({ name: nameOf(flags), ...(flags.dir ? { dir: flags.dir } : {}) }, deps(ctx));
    });

  withLabOptions(lab.command('status'))
    .description('namespaces, processes and convergence of the lab')
    .option('--json', 'machine-readable')
    .action(async (flags: LabFlags & { json?: boolean }) => {
      const report = await labStatus({ name: nameOf(flags), ...(flags.dir ? { dir: flags.dir } : {}) }, deps(ctx));
      ctx.out(flags.json ? JSON.stringify(report, null, 2) : formatStatus(report));
      const dead = report.processes.some((p) => !p.alive);
      if (report.phase === 'down' || dead || (report.api && !report.api.reachable) || (report.ec2 && !report.ec2.reachable)) ctx.setExitCode(1);
    });

  withLabOptions(lab.command('env'))
    .description('print shell exports that point the edgenet CLI at the lab (eval "$(edgenet lab env)")')
    .action(async (flags: LabFlags) => {
      const name = nameOf(flags);
      const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
      const env = labApiEnv(state);
      ctx.out(`export EDGENET_URL='${env.EDGENET_URL}'\nexport EDGENET_TOKEN='${env.EDGENET_TOKEN}'`);
    });

  withLabOptions(lab.command('exec'))
    .description('run an edgenet command against the lab: edgenet lab exec -- status')
    .argument('<args...>', 'the edgenet command and its arguments (after --)')
    .allowUnknownOption()
    .action(async (args: string[], flags: LabFlags) => {
      const name = nameOf(flags);
      const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
      ctx.setExitCode(await runCli(args, { ...ctx.env, ...labApiEnv(state) }));
    });

  withLabOptions(lab.command('sh'))
    .description('run a command inside a lab namespace: edgenet lab sh n1 -- iptables-save (n1, n2, ctl, cl, lan, rt (ROUTED labs) or an instance id)')
    .argument('<ns>', 'namespace short name')
    .argument('<argv...>', 'command (after --)')
    .allowUnknownOption()
    .action(async (ns: string, argv: string[], flags: LabFlags) => {
      requireRootUser();
      const name = nameOf(flags);
      const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
      const topo = labTopology(state, { exec: createExec() });
      const full = `${state.plan.prefix}-${ns}`;
      if (!(await topo.netns.exists(full))) throw new UserError('LAB_UNKNOWN_NS', `lab ${name} has no namespace ${full}`);
      const r = await topo.netns.execIn(full, argv, { okExitCodes: Array.from({ length: 256 }, (_, i) => i) });
      if (r.stdout) ctx.out(r.stdout.replace(/\n$/, ''));
      if (r.stderr) ctx.err(r.stderr.replace(/\n$/, ''));
      ctx.setExitCode(r.exitCode);
    });

  const vm = lab.command('vm').description('attach/detach instance namespaces (the lab plays the hypervisor)');
  withLabOptions(vm.command('add'))
    .description('attach an instance the CLC knows: namespace with vn_<id> in its node bridge, MAC from the CLC, address from dhcpd; on a dual-stack lab waits for its IPv6 address (SLAAC)')
    .argument('<id>', 'instance id (i-xxxxxxxx)')
    .option('--timeout <seconds>', 'give up after this long (default 60)', '60')
    .option('--json', 'machine-readable')
    .action(async (id: string, flags: LabFlags & { timeout: string; json?: boolean }) => {
      requireRootUser();
      const name = nameOf(flags);
      const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
      const seconds = Number(flags.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new CliExit(2, `error: --timeout expects seconds, got ${JSON.stringify(flags.timeout)}`);
      const r = await labVmAdd(state, labApiFor(state, ctx.signal), { id, timeoutMs: seconds * 1000 }, deps(ctx));
      ctx.out(flags.json ? JSON.stringify(vmAddJson(r), null, 2) : formatVmAdd(r));
    });
  withLabOptions(vm.command('del'))
    .description('detach an instance namespace (does not terminate the instance in the CLC)')
    .argument('<id>', 'instance id')
    .action(async (id: string, flags: LabFlags) => {
      requireRootUser();
      const name = nameOf(flags);
      const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
      await labVmDel(state, id, { exec: createExec() });
    });

  for (const action of LAB_DAEMON_ACTIONS) {
    withLabOptions(lab.command(action.name))
      .description(`${action.description} one daemon of the lab: clc, cc, nc or netd (nc and netd need --node n1|n2)`)
      .argument('<daemon>', 'clc, cc, nc or netd')
      .option('--node <N>', 'the lab node (n1, n2) for nc and netd')
      .option('--json', 'machine-readable')
      .action(async (daemon: string, flags: LabFlags & { node?: string; json?: boolean }) => {
        requireRootUser();
        const name = nameOf(flags);
        const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
        const sel = parseDaemonSelector(daemon, flags.node);
        const r = await labDaemonAction(state, { action: action.name, ...sel }, { exec: createExec() });
        ctx.out(flags.json ? JSON.stringify(r, null, 2) : r.summary);
      });
  }

  const clc = lab.command('clc').description('the CLCs of a two-CLC lab (lab up --db postgres): list, kill, stop, start, restart');
  withLabOptions(clc.command('list'))
    .description('each CLC: pid, role (leader/follower) and since when, the newest term, its admin API URL')
    .option('--json', 'machine-readable')
    .action(async (flags: LabFlags & { json?: boolean }) => {
      const name = nameOf(flags);
      const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
      if (!state.plan.clcs) throw new UserError('LAB_UNKNOWN_CLC', `lab ${name} runs one CLC on SQLite (lab up --db postgres runs two): see edgenet lab status`);
      const clcs = await labClcStatus(state);
      ctx.out(flags.json ? JSON.stringify(clcs, null, 2) : clcs.map(formatClc).join('\n'));
    });
  for (const action of LAB_DAEMON_ACTIONS) {
    withLabOptions(clc.command(action.name))
      .description(`${action.description} one CLC of a two-CLC lab`)
      .argument('<id>', 'clc-1 or clc-2 (edgenet lab clc list)')
      .option('--json', 'machine-readable')
      .action(async (id: string, flags: LabFlags & { json?: boolean }) => {
        requireRootUser();
        const name = nameOf(flags);
        const state = await requireLabState(labPlan(name, flags.dir ?? defaultLabDir(name, ctx.env)).stateFile, name);
        const r = await labDaemonAction(state, { action: action.name, role: 'clc', clc: id }, { exec: createExec() });
        ctx.out(flags.json ? JSON.stringify(r, null, 2) : r.summary);
      });
  }

  withLabOptions(lab.command('demo'))
    .description('the demo: lab up, groups, instances on both nodes, a public address, status + connectivity matrix; Ctrl-C tears down')
    .option('--exit-after <seconds>', 'tear down after this long instead of waiting for Ctrl-C (env DEMO_EXIT_AFTER_SECONDS)')
    .option('--ipv4-only', 'the IPv4-only lab and matrix (default: dual stack, IPv4 and IPv6 side by side)')
    .option('--mode <edge|routed>', 'edge (default); routed: the ROUTED lab, and the routes the upstream router learned next to the matrix', 'edge')
    .action(async (flags: LabFlags & { exitAfter?: string; ipv4Only?: boolean; mode: string }) => {
      requireRootUser();
      const mode = parseMode(flags.mode);
      const exitAfter = flags.exitAfter ?? ctx.env.DEMO_EXIT_AFTER_SECONDS;
      const seconds = exitAfter === undefined || exitAfter === '' ? undefined : Number(exitAfter);
      if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 0)) throw new CliExit(2, `error: --exit-after expects seconds, got ${JSON.stringify(exitAfter)}`);
      const { signal, dispose } = interruptSignal({ parent: ctx.signal });
      try {
        const code = await runDemo({ name: flags.name ?? 'demo', ...(flags.dir ? { dir: flags.dir } : {}), ...(seconds !== undefined ? { exitAfterMs: seconds * 1000 } : {}), ipv4Only: flags.ipv4Only === true, mode }, { ...deps(ctx, signal), out: ctx.out, edgenet: (argv, env) => runCli(argv, { ...ctx.env, ...env }) });
        ctx.setExitCode(code);
      } finally {
        dispose();
      }
    });

  lab
    .command('relay', { hidden: true })
    .description('internal: relay the admin API between a TCP port and a unix socket (see src/lab/relay.ts)')
    .requiredOption('--listen <endpoint>', 'tcp:HOST:PORT or unix:/path')
    .requiredOption('--target <endpoint>', 'tcp:HOST:PORT or unix:/path')
    .option('--port-file <file>', 'write the bound TCP port here')
    .option('--watch <path>', 'exit once this path disappears')
    .option('--http-unavailable', 'answer HTTP 503 UPSTREAM_UNAVAILABLE when the target cannot be reached')
    .action(async (flags: { listen: string; target: string; portFile?: string; watch?: string; httpUnavailable?: boolean }) => {
      const relay = await startRelay({
        listen: parseEndpoint(flags.listen),
        target: parseEndpoint(flags.target),
        ...(flags.httpUnavailable ? { httpUnavailable: true } : {}),
        ...(flags.portFile ? { portFile: flags.portFile } : {}),
        ...(flags.watch ? { watch: flags.watch } : {}),
      });
      const { signal, dispose } = interruptSignal({ parent: ctx.signal });
      signal.addEventListener('abort', () => void relay.close(), { once: true });
      await relay.closed;
      dispose();
    });
}
