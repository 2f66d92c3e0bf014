/**
 * Running ISC dhclient inside an instance namespace without touching host
 * files. Debian's /sbin/dhclient-script rewrites /etc/resolv.conf through a
 * temp file `/etc/resolv.conf.dhclient-new.$$` — inside `ip netns exec` that
 * temp file lands in the host's real /etc (only resolv.conf itself is
 * bind-mounted from /etc/netns/<ns>/), and it may follow a symlink to
 * systemd-resolved's file. So the lab passes its own script (`-sf`):
 *   - sets the address, the default route and the MTU-free basics with `ip`,
 *   - writes nameservers/search into the instance's IPv4 fragment and runs the
 *     merge script (instance-dns.ts), which builds /etc/netns/<ns>/resolv.conf
 *     (later `ip netns exec <ns>` invocations see it as /etc/resolv.conf) from
 *     it and rdnssd's IPv6 fragment,
 *   - records the lease as KEY=value lines in a file the caller parses.
 * Config, lease, pid and lease-info files live in a per-instance directory.
 * dhclient gets the environment only from its own variables, so every path is
 * written into the generated script.
 */
import type { Ipv4 } from '../shared/ip.ts';
import { shQuote } from './instance-dns.ts';
import { maskToPrefix, parseIp } from '../shared/ip.ts';

export interface DhcpLease {
  readonly ip: string;
  readonly netmask: string;
  readonly prefixLength: number;
  readonly routers: readonly string[];
  readonly dns: readonly string[];
  readonly domain?: string;
}

export interface DhclientFiles {
  readonly dir: string;
  readonly conf: string;
  readonly script: string;
  readonly leases: string;
  readonly pid: string;
  readonly info: string;
  readonly log: string;
  /** /etc/netns/<ns>/resolv.conf (created empty before dhclient runs so `ip netns exec` bind-mounts it). */
  readonly resolvConf: string;
  /** The IPv4 fragment this script writes (instance-dns.ts `ipv4`). */
  readonly resolvIpv4: string;
  /** The merge script it runs afterwards (instance-dns.ts `merge`). */
  readonly mergeResolv: string;
}

/** dhclient.conf: give up after `timeoutSeconds` (the caller also bounds the process). */
export function dhclientConf(timeoutSeconds: number): string {
  return [
    '# edgenet lab: one try, bounded time',
    `timeout ${timeoutSeconds};`,
    'retry 1;',
    'request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name;',
    '',
  ].join('\n');
}

/** The `-sf` script (POSIX sh). Paths are baked in because dhclient passes no outer environment. */
export function dhclientScript(files: Pick<DhclientFiles, 'info' | 'resolvIpv4' | 'mergeResolv'>): string {
  const info = shQuote(files.info);
  const resolv = shQuote(files.resolvIpv4);
  const merge = shQuote(files.mergeResolv);
  return `#!/bin/sh
# edgenet lab dhclient script: never writes host files (see src/lab/dhclient.ts).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
case "$reason" in
  PREINIT)
    ip link set dev "$interface" up
    ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip -4 addr flush dev "$interface"
    fi
    ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    for r in $new_routers; do
      ip -4 route replace default via "$r" dev "$interface" onlink
      break
    done
    {
      [ -n "$new_domain_name" ] && echo "search $new_domain_name"
      for ns in $new_domain_name_servers; do echo "nameserver $ns"; done
    } > ${resolv}.tmp && mv ${resolv}.tmp ${resolv}
    sh ${merge}
    {
      echo "ip=$new_ip_address"
      echo "netmask=$new_subnet_mask"
      echo "routers=$new_routers"
      echo "dns=$new_domain_name_servers"
      echo "domain=$new_domain_name"
      echo "reason=$reason"
    } > ${info}.tmp && mv ${info}.tmp ${info}
    ;;
  EXPIRE|FAIL|RELEASE|STOP)
    ip -4 addr flush dev "$interface"
    rm -f ${info}
    ;;
esac
exit 0
`;
}

/** Parses the KEY=value file the script writes; undefined when incomplete. */
export function parseLeaseInfo(text: string): DhcpLease | undefined {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const ip = values.get('ip') ?? '';
  const netmask = values.get('netmask') ?? '';
  const mask: Ipv4 | undefined = parseIp(netmask);
  const prefixLength = mask === undefined ? undefined : maskToPrefix(mask);
  if (parseIp(ip) === undefined || prefixLength === undefined) return undefined;
  const list = (key: string) => (values.get(key) ?? '').split(/\s+/).filter((s) => parseIp(s) !== undefined);
  const domain = values.get('domain');
  return { ip, netmask, prefixLength, routers: list('routers'), dns: list('dns'), ...(domain ? { domain } : {}) };
}
