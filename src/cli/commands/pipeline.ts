/**
 * The broadcast pipeline's commands:
 *   edgenet cc [...]             run a cluster controller (foreground; SIGTERM stops it, SIGHUP reloads LOG_LEVEL)
 *   edgenet nc [...]             run a node controller (same lifecycle; shared/daemon/)
 *   edgenet certs init --dir D   make the cloud's CA
 *   edgenet certs issue NAME --role clc|cc|nc --ip IP... [--dns N...] --dir D
 *   edgenet status [--json]      convergence per cluster and node (GET /v1/status)
 */
import type { Command } from 'commander';
import { usageError, type CliContext } from '../context.ts';
import { addJsonOption, printJson } from '../output.ts';
import { addApiOptions, apiClient, type ApiOptions } from '../api-client.ts';
import { ccOptions, ccProgram, type CcFlags } from '../../cluster-controller/main.ts';
import { ncOptions, ncProgram, type NcFlags } from '../../node-controller/main.ts';
import { runDaemonCommand, type DaemonCommandIo } from '../../shared/daemon/run.ts';
import { initCa, issueCert } from '../../shared/tls/certs.ts';
import { isRole } from '../../shared/tls/material.ts';
import { createExec } from '../../shared/exec.ts';
import { paths } from '../../shared/paths.ts';
import type { StatusView } from '../../cloud-controller/broadcast/status-view.ts';
import { formatStatus } from '../../cloud-controller/broadcast/status-format.ts';

/** How a daemon command prints (stdout for --check-config, stderr for errors) and stops (the CLI's signal). */
export function daemonIo(ctx: CliContext, flags: { checkConfig?: boolean; json?: boolean }): DaemonCommandIo {
  return { parent: ctx.signal, out: ctx.out, err: ctx.err, checkConfig: flags.checkConfig ?? false, json: flags.json ?? false };
}

export function registerPipeline(program: Command, ctx: CliContext): void {
  ccOptions(
    program
      .command('cc')
      .summary('run a cluster controller')
      .description(
        'Run a cluster controller: receives network documents from the cloud controller over SOAP (mutual TLS, ' +
          'only certificates with role clc), stores the latest one durably under STATE_DIR, forwards it to its ' +
          'node controllers (NC_FANOUT at a time, retried with back-off) and reports per-node delivered/applied ' +
          'versions. Settings: flags > EDGENET_CC_<KEY> > --config file (KEY=value, see examples/cc.conf) > defaults; ' +
          '--check-config prints them with their sources and problems. Exit: 0 stopped, 1 failure, 2 configuration. ' +
          'Health and Prometheus metrics: http://METRICS_LISTEN/healthz and /metrics.',
      ),
  ).action(async (flags: CcFlags) => {
    ctx.setExitCode(await runDaemonCommand(ccProgram(flags, ctx.env), daemonIo(ctx, flags)));
  });

  ncOptions(
    program
      .command('nc')
      .summary('run a node controller')
      .description(
        'Run a node controller: receives network documents from its cluster controller over SOAP (mutual TLS, ' +
          'only certificates with role cc), refuses documents older (by sequence) than the one it holds, writes ' +
          'the shared file for netd atomically (mode 0600; not rewritten when the version is unchanged) and ' +
          "returns netd's last status. Settings: flags > EDGENET_NC_<KEY> > --config file (see examples/nc.conf) > defaults; " +
          '--check-config prints them with their sources and problems. Exit: 0 stopped, 1 failure, 2 configuration.',
      ),
  ).action(async (flags: NcFlags) => {
    ctx.setExitCode(await runDaemonCommand(ncProgram(flags, ctx.env), daemonIo(ctx, flags)));
  });

  const certs = program
    .command('certs')
    .summary('make the CA and daemon certificates for mutual TLS')
    .description(
      'Every pipeline hop authenticates its peer with mutual TLS. "init" makes the cloud\'s CA; "issue" makes a ' +
        'key (0600) and a certificate signed by it whose OU is the role: clc (calls CCs), cc (called by the CLC, ' +
        'calls NCs), nc (called by CCs). --ip/--dns name the addresses peers dial. Directory mode 0700.',
    );
  const days = (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) throw usageError('INVALID_DAYS', `--days must be a positive whole number, not ${JSON.stringify(text)}`);
    return n;
  };
  addJsonOption(
    certs
      .command('init')
      .description('create ca.key and ca.crt in --dir (refuses to overwrite)')
      .option('--dir <dir>', 'certificate directory', paths.certsDir(ctx.env))
      .option('--days <n>', 'validity in days', '3650'),
  ).action(async (o: { dir: string; days: string; json?: boolean }) => {
    const { caCert } = await initCa(createExec(), o.dir, { days: days(o.days) });
    if (o.json) printJson(ctx, { caCert });
    else ctx.out(`CA created: ${caCert}`);
  });
  addJsonOption(
    certs
      .command('issue <name>')
      .description('create <name>.key and <name>.crt signed by the CA in --dir')
      .requiredOption('--role <role>', 'clc | cc | nc')
      .option('--ip <ip...>', 'IP addresses peers use to reach this daemon (SANs)', [])
      .option('--dns <name...>', 'DNS names peers use to reach this daemon (SANs)', [])
      .option('--dir <dir>', 'certificate directory', paths.certsDir(ctx.env))
      .option('--days <n>', 'validity in days', '825'),
  ).action(async (name: string, o: { role: string; ip: string[]; dns: string[]; dir: string; days: string; json?: boolean }) => {
    if (!isRole(o.role)) throw usageError('INVALID_ROLE', `--role must be clc, cc or nc, not ${JSON.stringify(o.role)}`);
    const out = await issueCert(createExec(), { dir: o.dir, name, role: o.role, ips: o.ip, dnsNames: o.dns, days: days(o.days) });
    if (o.json) printJson(ctx, { role: o.role, cert: out.cert, key: out.key });
    else ctx.out(`issued ${o.role} certificate: ${out.cert} (key ${out.key}, mode 0600)`);
  });

  addApiOptions(
    program
      .command('status')
      .summary('show per cluster and node which network document is delivered and applied')
      .description(
        'Asks the cloud controller (GET /v1/status) and prints, per cluster and node: the document delivered to ' +
          'the node controller and the one netd applied (sequence/version), the lag behind the current document ' +
          '(sequences and seconds), netd\'s result and the last error. Only registered nodes are shown. ' +
          'Exit code 0 when every node converged, 1 otherwise (also when the CLC does not answer within --timeout).',
      )
      .option('--json', 'print the raw JSON (errors as {"error": {code, message}})'),
  ).action(async (o: ApiOptions & { json?: boolean }) => {
    const view = await apiClient(ctx, o).request<StatusView>('GET', '/v1/status');
    ctx.out(o.json ? JSON.stringify(view, null, 2) : formatStatus(view, Date.now()));
    if (!view.converged) ctx.setExitCode(1);
  });
}
