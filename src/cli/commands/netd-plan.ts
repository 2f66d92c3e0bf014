/**
 * `edgenet netd plan --gni FILE [--node NAME] [--config FILE] [--json]`:
 * parse a GNI file, render the desired state of one node and print it (text
 * sections or JSON). Needs no root: the only host facts read are the bridge's
 * MAC (/sys/class/net/<bridge>/address) and addresses (os.networkInterfaces),
 * both world-readable; `--no-host` skips them (deterministic output).
 * When the daemon side passes `opts.diff`, the difference to the live host is
 * printed after the state; failing to read the host is reported, not fatal.
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliExit, usageError } from '../context.ts';
import { formatDiagnostic } from '../../shared/diagnostics.ts';
import { errorMessage } from '../../shared/errors.ts';
import { parseGni } from '../../shared/gni/codec.ts';
import type { NetdConfig } from '../../netd/config.ts';
import { DEFAULT_NETD_CONFIG, parseNetdConfig } from '../../netd/config.ts';
import { describeState } from '../../netd/render/describe.ts';
import { renderUntrusted } from '../../netd/render/sanitize.ts';
import type { DesiredState, HostFacts } from '../../netd/render/types.ts';

export interface NetdPlanOptions {
  readonly diff?: (state: DesiredState, config: NetdConfig) => Promise<string>;
}

interface PlanFlags {
  gni: string;
  node?: string;
  config?: string;
  json?: boolean;
  host: boolean;
  bridgeMac?: string;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw usageError('FILE_UNREADABLE', `cannot read ${what} ${file}: ${errorMessage(err)}`);
  }
}

/** Bridge MAC and addresses from world-readable sources; missing facts stay undefined. */
async function readHostFacts(bridge: string): Promise<HostFacts> {
  let bridgeMac: string | undefined;
  try {
    bridgeMac = (await readFile(`/sys/class/net/${bridge}/address`, 'utf8')).trim().toLowerCase();
  } catch {
    bridgeMac = undefined;
  }
  const addrs = (networkInterfaces()[bridge] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.cidr ?? a.address);
  return { ...(bridgeMac ? { bridgeMac } : {}), bridgeAddresses: addrs };
}

export function registerNetdPlan(netd: Command, ctx: CliContext, opts: NetdPlanOptions = {}): void {
  netd
    .command('plan')
    .description('print the host state netd would lay down for a node (and the difference to this host when readable)')
    .requiredOption('--gni <file>', 'GNI XML document')
    .option('--node <name>', 'node name as listed in the document (default: EDGENET_NODE_NAME of the config)')
    .option('--config <file>', 'netd configuration file (KEY="value")')
    .option('--json', 'print the desired state as JSON')
    .option('--bridge-mac <mac>', 'bridge MAC for the fake-router ARP reply (default: read from the host)')
    .option('--no-host', 'do not read any host fact and do not compute the difference')
    .action(async (flags: PlanFlags) => {
      let config: NetdConfig = DEFAULT_NETD_CONFIG;
      if (flags.config !== undefined) {
        const parsed = parseNetdConfig(await readText(flags.config, 'config'));
        if (flags.json !== true || parsed.ok) for (const d of parsed.diagnostics) ctx.err(`${d.severity}: ${flags.config}: ${formatDiagnostic(d)}`);
        if (!parsed.ok) throw new CliExit(1, `error: ${flags.config} is not a valid netd configuration`, { code: 'CONFIG_INVALID', details: { diagnostics: parsed.diagnostics } });
        config = parsed.value;
      }
      const node = flags.node ?? (config.nodeName || undefined);
      if (node === undefined) throw usageError('MISSING_NODE', '--node is required (or EDGENET_NODE_NAME in --config)');
      const doc = parseGni(await readText(flags.gni, 'GNI document'));
      if (!doc.ok) {
        if (flags.json !== true) for (const d of doc.diagnostics) ctx.err(formatDiagnostic(d));
        throw new CliExit(1, `error: ${flags.gni} is not a valid GNI document`, { code: 'INVALID_GNI', details: { diagnostics: doc.diagnostics } });
      }
      const host: HostFacts = flags.host ? await readHostFacts(config.bridge) : {};
      const facts: HostFacts = flags.bridgeMac !== undefined ? { ...host, bridgeMac: flags.bridgeMac.toLowerCase() } : host;
      // As a sync does: the document's meaning is checked first (sanitize), refusals shown as warnings.
      const hostAddresses = [...(facts.bridgeAddresses ?? []), ...(config.nodeName === '' ? [] : [config.nodeName])];
      const result = renderUntrusted(doc.value, { node }, config, facts, { hostAddresses });
      if (!result.ok) throw new CliExit(1, `error: ${result.code}: ${result.message}`, { code: result.code });
      ctx.out(flags.json === true ? JSON.stringify(result.state, null, 2) : describeState(result.state));
      if (opts.diff !== undefined && flags.host && flags.json !== true) {
        try {
          ctx.out(`\n## difference to this host\n${await opts.diff(result.state, config)}`);
        } catch (err) {
          ctx.err(`difference unavailable: ${errorMessage(err)}`);
        }
      }
    });
}
