/**
 * radvd.conf for a dual-stack cluster (issue 14): the node is the IPv6 router
 * of its local instances, so radvd on the bridge advertises the cluster's /64
 * (on-link, autonomous: SLAAC with the EUI-64 of the instance's MAC, which is
 * the address the CLC computed), the node as default router, and the name
 * servers (RDNSS) and search domain (DNSSL) in the RA itself, so a guest needs
 * neither DHCPv6 nor the O flag. The result is one entry of
 * DesiredState.processes; its driver (argv, pid file, config check, log) is
 * src/netd/apply/radvd.ts.
 *
 * When it runs: whenever this node's cluster is dual-stack (the sanitized
 * cluster has an `ipv6` prefix), whether or not an instance is local yet.
 * Unlike dhcpd, radvd.conf names no instance, so instance churn never touches
 * the process: the first instance of a node is served by an already running
 * radvd (an answer to its first router solicitation, no start and start check
 * on that sync's path), and the last one leaving does not stop it. An idle
 * radvd costs one multicast RA on the bridge every 3–10 s, which the ebtables
 * OUTPUT rule keeps off the physical port. An IPv4-only cluster: must not run.
 *
 * Deterministic: the same inputs give byte-identical text, so the supervisor
 * writes and reloads (SIGHUP, same pid) only on a change. No text from the
 * document reaches the file unchecked: the prefix and name servers come parsed
 * and canonical from the render context (ctx.ipv6, ipv6-checks.ts), and the
 * search domain must be a DNS name here, so nothing can inject radvd syntax
 * even into a document rendered without sanitize.
 */
import type { RenderContext } from './context.ts';
import type { SupervisedProcess } from './types.ts';

/** The process kind of radvd in DesiredState.processes and the driver registry. */
export const RADVD_KIND = 'radvd';
/** Its one configuration file. */
export const RADVD_CONF = 'radvd.conf';

/**
 * RA timing. An instance asks with a router solicitation when its interface
 * comes up and radvd answers at once, so the periodic interval only matters
 * when that answer was missed — typically because the instance's solicitation
 * hit the default drop on its `vn_` port before its rules existed. Then the
 * guest waits for the next unsolicited RA: at most MaxRtrAdvInterval, 10 s
 * here, against radvd's default of 600 s (a boot that waits 10 minutes for its
 * address). RFC 4861 §6.2.1 bounds MinRtrAdvInterval to >= 3 s and
 * <= 0.75 × MaxRtrAdvInterval; 3 s is that floor. The router lifetime radvd
 * derives is 3 × MaxRtrAdvInterval = 30 s, so instances drop the node as
 * router 30 s after it disappears without its stop adverts (radvd sends a zero
 * lifetime when it is stopped). Not a netd key: these are protocol timing, not
 * site policy, and one RA every few seconds on a local bridge costs nothing.
 */
const MIN_RTR_ADV_INTERVAL = 3;
const MAX_RTR_ADV_INTERVAL = 10;
/**
 * RDNSS/DNSSL lifetimes: RFC 8106 §5.1 asks for at least 3 × MaxRtrAdvInterval
 * so that a lost RA or two does not drop the guest's name servers; the same 30 s
 * as the router lifetime, so DNS and the default route expire together. radvd
 * 2.19 still checks RFC 6106's older `<= 2 × MaxRtrAdvInterval` and logs a
 * warning about it at each start and reload (harmless; docs/netd.md says so).
 */
const DNS_LIFETIME = 3 * MAX_RTR_ADV_INTERVAL;

const RDNSS_PER_DIRECTIVE = 3;

/** A DNS name radvd's DNSSL takes: letters, digits and inner hyphens per label, 253 characters at most (the config drive's search domain too). */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export function isDnsName(name: string): boolean {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed.length > 0 && trimmed.length <= 253 && trimmed.split('.').every((l) => DNS_LABEL.test(l));
}

export interface RadvdOptions {
  /**
   * AdvLinkMTU to advertise; absent: none (guests keep their NIC's MTU, as on
   * the IPv4 side, where dhcpd sends no interface-mtu). No netd key sets it yet.
   */
  readonly linkMtu?: number;
}

export function renderRadvd(ctx: RenderContext, options: RadvdOptions = {}): SupervisedProcess {
  const bridge = ctx.config.bridge;
  // Checked by the context (ipv6-checks.ts, sanitize's rules): an aligned /64
  // and unicast name servers in canonical text; a cluster whose prefix fails
  // is IPv4-only there, with a warning.
  const v6 = ctx.ipv6;
  if (v6 === undefined) {
    return {
      kind: RADVD_KIND,
      run: false,
      interfaces: [bridge],
      files: [],
      reload: { kind: 'signal', signal: 'SIGHUP' },
      summary: 'IPv4-only cluster: radvd must not run',
    };
  }
  const prefix = v6.prefixText;
  const dns = v6.dnsServers;
  const domain = ctx.doc.configuration.instanceDnsDomain ?? '';
  const searchDomain = domain !== '' && isDnsName(domain) ? domain : undefined;
  if (domain !== '' && searchDomain === undefined) ctx.warnings.push(`instanceDnsDomain ${JSON.stringify(domain)} is not a DNS name: no DNSSL in the router advertisements`);

  const lines = [
    `# Generated by edgenet netd for node ${ctx.node} (cluster ${ctx.cluster.name}). Do not edit: rewritten on every change.`,
    `interface ${bridge} {`,
    '  AdvSendAdvert on;',
    `  MinRtrAdvInterval ${MIN_RTR_ADV_INTERVAL};`,
    `  MaxRtrAdvInterval ${MAX_RTR_ADV_INTERVAL};`,
    // SLAAC only: the address is the EUI-64 of the MAC, nothing to hand out
    // statefully (M off), and DNS travels in the RA itself (O off).
    '  AdvManagedFlag off;',
    '  AdvOtherConfigFlag off;',
  ];
  if (options.linkMtu !== undefined) lines.push(`  AdvLinkMTU ${options.linkMtu};`);
  lines.push(`  prefix ${prefix} {`, '    AdvOnLink on;', '    AdvAutonomous on;', '  };');
  // radvd takes at most three addresses per RDNSS directive (more fail its parse).
  for (let i = 0; i < dns.length; i += RDNSS_PER_DIRECTIVE) {
    lines.push(`  RDNSS ${dns.slice(i, i + RDNSS_PER_DIRECTIVE).join(' ')} {`, `    AdvRDNSSLifetime ${DNS_LIFETIME};`, '  };');
  }
  if (searchDomain !== undefined) lines.push(`  DNSSL ${searchDomain} {`, `    AdvDNSSLLifetime ${DNS_LIFETIME};`, '  };');
  lines.push('};', '');
  return {
    kind: RADVD_KIND,
    run: true,
    interfaces: [bridge],
    files: [{ name: RADVD_CONF, content: lines.join('\n') }],
    // radvd re-reads its configuration on SIGHUP and keeps its pid; the
    // driver's check (`radvd -c`) runs first, since radvd exits on a
    // configuration it cannot read.
    reload: { kind: 'signal', signal: 'SIGHUP' },
    summary: `prefix ${prefix} on ${bridge}, ${dns.length} name server${dns.length === 1 ? '' : 's'}`,
  };
}
