/**
 * ROUTED (issue 17): one local instance's config drive, as data — the files of
 * a cloud-init NoCloud seed (`meta-data`, `network-config`, `user-data` when
 * the document carries some). An instance of a ROUTED cluster gets no DHCP and
 * no router advertisement: this is how it learns its addresses, its gateways
 * and its name servers. apply/config-drive.ts writes the files and the ISO
 * (label `cidata`, CONFIG_DRIVE_LABEL); a hypervisor integration attaches it.
 *
 * Formats (cloud-init 22.4, Debian 12's, parses them: test/unit/netd/config-drive-cloudinit.test.ts):
 * - `meta-data`: `instance-id` and `local-hostname`, written as JSON (JSON is YAML).
 * - `network-config`: network config version 2, JSON text. One ethernet matched
 *   by the instance's MAC and named eth0, carrying every routed address as a
 *   host prefix (/32, /128): there is no shared subnet, every packet goes to
 *   the gateway, whose addresses the host side of the port holds
 *   (169.254.0.1/32, fe80::1/64). The IPv4 gateway lies in no subnet of the
 *   instance, hence `on-link` on the default route; an IPv6 link-local
 *   gateway is on-link by definition. No separate link-scope host route to
 *   the gateway: `on-link` makes it unnecessary, and a route without `via`
 *   makes cloud-init 22.4's ENI renderer (Debian 12 guests) fail on the whole
 *   network config (KeyError 'gateway'). Known limit of 22.4's own renderers
 *   (ENI, networkd): they drop `on-link` and turn `::/0` into `::/64`; netplan
 *   guests get the config as written (cloud-init passes v2 through).
 *   Routes and name servers only for the families the instance has an
 *   address of (an elastic IPv4 gives an IPv6-only instance IPv4).
 * - `user-data`: the bytes the user gave (base64 in the document, carried as
 *   base64 here: they need not be text). A value that is not canonical
 *   base64 comes from a broken or hostile document: the drive is built
 *   without user data, with a warning, rather than with bytes nobody gave.
 *
 * Pure and deterministic: the same input gives byte-identical files, so the
 * applier rebuilds an ISO only when an instance's drive really changed.
 */
import { IPV6_LINK_LOCAL, cidrContains6, formatIp, formatIpv6, isMacAddress, parseIp, parseIpv6 } from '../../shared/ip.ts';
import { isDnsName } from './radvd.ts';
import type { ConfigDrive, DriveFile } from './types.ts';

/** The volume label cloud-init's NoCloud datasource looks for (`cidata`, or `CIDATA`: it compares case-insensitively). */
export const CONFIG_DRIVE_LABEL = 'cidata';
export const META_DATA = 'meta-data';
export const NETWORK_CONFIG = 'network-config';
export const USER_DATA = 'user-data';
/** The name the instance's NIC gets (`set-name`), matched by MAC whatever the guest's naming scheme calls it. */
export const CONFIG_DRIVE_NIC = 'eth0';

export interface ConfigDriveInput {
  /** Instance id (already checked by sanitize): `instance-id`, and the host name's first label when it has no IPv4 address. */
  readonly instance: string;
  readonly mac: string;
  /** Explicit host name; absent: the metadata service's local-hostname, `euca-a-b-c-d.<domain>` from `ipv4`, else `<instance>.<domain>` (hostnameOf). */
  readonly hostname?: string;
  /** Routed IPv4 address (the document's `privateIp`); absent on an IPv6-only cluster. */
  readonly ipv4?: string;
  /** Routed IPv6 address (the `ipv6` extension); absent on an IPv4-only cluster. */
  readonly ipv6?: string;
  /** Elastic IPv4 address (the document's `publicIp`): one more routed /32. */
  readonly elasticIpv4?: string;
  /** The instance-side gateways (shared/gni/routed.ts configurationRouted). */
  readonly gatewayIpv4?: string;
  readonly gatewayIpv6?: string;
  /** Name servers of both families; each instance gets those of its families. */
  readonly dnsServers: readonly string[];
  /** The search domain (the document's instanceDnsDomain); also the host name's domain (DEFAULT_INSTANCE_DNS_DOMAIN when absent). */
  readonly dnsDomain?: string;
  /** Base64 user data (shared/gni/routed.ts instanceUserData). */
  readonly userData?: string;
}

/** cloud-init network config v2, the parts we write. */
interface NetworkConfigV2 {
  readonly version: 2;
  readonly ethernets: Record<string, {
    readonly match?: { readonly macaddress: string };
    readonly 'set-name'?: string;
    readonly addresses: readonly string[];
    readonly routes?: readonly Record<string, string | boolean>[];
    readonly nameservers?: { readonly addresses?: readonly string[]; readonly search?: readonly string[] };
  }>;
}


/** Canonical IPv4 text, or undefined (with a warning) when `text` is not one. */
function ipv4Of(text: string | undefined, what: string, warnings: string[]): string | undefined {
  if (text === undefined || text === '') return undefined;
  const ip = parseIp(text);
  if (ip === undefined) warnings.push(`${what} ${JSON.stringify(text)} is not an IPv4 address: left out`);
  return ip === undefined ? undefined : formatIp(ip);
}

function ipv6Of(text: string | undefined, what: string, warnings: string[]): string | undefined {
  if (text === undefined || text === '') return undefined;
  const ip = parseIpv6(text);
  if (ip === undefined) warnings.push(`${what} ${JSON.stringify(text)} is not an IPv6 address: left out`);
  return ip === undefined ? undefined : formatIpv6(ip);
}

/** The bytes of canonical base64 `text` (line breaks allowed), or undefined when it is not that. */
export function strictBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  // Node decodes leniently (ignores stray bits and characters): only a value
  // that re-encodes to itself is the base64 of exactly these bytes.
  return bytes.toString('base64') === compact ? bytes : undefined;
}

/**
 * The private domain when the document has none or one that is not a DNS
 * name: Eucalyptus's default (`cloud.vmstate.instance_subdomain` ".eucalyptus"
 * + ".internal"), the metadata service's fallback too. The CLC's mapper always
 * writes the exploded InstanceDnsDomain, so a CLC document never needs it.
 */
export const DEFAULT_INSTANCE_DNS_DOMAIN = 'eucalyptus.internal';

/**
 * local-hostname, by the metadata service's rule (cloud-controller/metadata
 * lookup.ts with hostnames.ts eucaHostname and hostnameDomains), so the drive
 * and `meta-data/local-hostname` name the instance alike: with a routed IPv4
 * address Eucalyptus's private DNS name `euca-a-b-c-d.<domain>`, without one
 * (IPv6-only, whatever elastic address it holds) `<instance>.<domain>`; the
 * domain is the document's instanceDnsDomain, which the metadata service's
 * privateDomain comes from (the exploded InstanceDnsDomain).
 */
function hostnameOf(input: ConfigDriveInput, ipv4: string | undefined, domain: string | undefined, warnings: string[]): string {
  if (input.hostname !== undefined) {
    if (isDnsName(input.hostname)) return input.hostname;
    warnings.push(`host name ${JSON.stringify(input.hostname)} is not a DNS name: ${input.instance} is named after its address or id`);
  }
  const suffix = (domain ?? DEFAULT_INSTANCE_DNS_DOMAIN).replace(/^\.+/, '').replace(/\.+$/, '');
  return `${ipv4 !== undefined ? `euca-${ipv4.replaceAll('.', '-')}` : input.instance}.${suffix}`;
}

/**
 * The drive of one instance. Values the document got wrong (an address, a
 * gateway or name server that does not parse, a domain that is not a DNS name,
 * user data that is not base64) are left out and reported in `warnings`: the
 * rest of the drive is still worth having.
 */
export function renderConfigDrive(input: ConfigDriveInput, warnings: string[] = []): ConfigDrive {
  const ipv4 = ipv4Of(input.ipv4, `${input.instance}: IPv4 address`, warnings);
  const elastic = ipv4Of(input.elasticIpv4, `${input.instance}: elastic IPv4 address`, warnings);
  const ipv6 = ipv6Of(input.ipv6, `${input.instance}: IPv6 address`, warnings);
  const hasV4 = ipv4 !== undefined || elastic !== undefined;
  const hasV6 = ipv6 !== undefined;
  const gw4 = hasV4 ? ipv4Of(input.gatewayIpv4, 'IPv4 gateway', warnings) : undefined;
  const gw6 = hasV6 ? ipv6Of(input.gatewayIpv6, 'IPv6 gateway', warnings) : undefined;
  if (hasV4 && gw4 === undefined && (input.gatewayIpv4 ?? '') === '') warnings.push(`${input.instance}: no IPv4 gateway: its drive has no IPv4 routes`);
  if (hasV6 && gw6 === undefined && (input.gatewayIpv6 ?? '') === '') warnings.push(`${input.instance}: no IPv6 gateway: its drive has no IPv6 routes`);

  const rawDomain = input.dnsDomain ?? '';
  const domain = rawDomain !== '' && isDnsName(rawDomain) ? rawDomain : undefined;
  if (rawDomain !== '' && domain === undefined) warnings.push(`instanceDnsDomain ${JSON.stringify(rawDomain)} is not a DNS name: no search domain on the config drives`);

  const addresses = [...(ipv4 ? [`${ipv4}/32`] : []), ...(elastic && elastic !== ipv4 ? [`${elastic}/32`] : []), ...(ipv6 ? [`${ipv6}/128`] : [])];
  const routes: Record<string, string | boolean>[] = [];
  if (gw4 !== undefined) {
    routes.push({ to: '0.0.0.0/0', via: gw4, 'on-link': true });
  }
  if (gw6 !== undefined) {
    // A link-local gateway is on-link by definition; a global one is in no prefix of the instance (/128 only).
    const linkLocal = cidrContains6(IPV6_LINK_LOCAL, parseIpv6(gw6)!);
    routes.push({ to: '::/0', via: gw6, ...(linkLocal ? {} : { 'on-link': true }) });
  }
  const servers: string[] = [];
  for (const s of input.dnsServers) {
    const v4 = parseIp(s);
    const v6 = v4 === undefined ? parseIpv6(s) : undefined;
    if (v4 === undefined && v6 === undefined) warnings.push(`name server ${JSON.stringify(s)} is not an IP address: left off the config drives`);
    else if (v4 !== undefined && hasV4) servers.push(formatIp(v4));
    else if (v6 !== undefined && hasV6) servers.push(formatIpv6(v6));
  }
  const nameservers = {
    ...(servers.length > 0 ? { addresses: servers } : {}),
    ...(domain !== undefined ? { search: [domain.replace(/\.$/, '')] } : {}),
  };

  const mac = input.mac.toLowerCase();
  const macOk = isMacAddress(mac);
  if (!macOk) warnings.push(`${input.instance}: MAC ${JSON.stringify(input.mac)} is not a MAC address: its network-config matches the NIC by name (${CONFIG_DRIVE_NIC})`);
  const network: NetworkConfigV2 = {
    version: 2,
    ethernets: {
      [CONFIG_DRIVE_NIC]: {
        ...(macOk ? { match: { macaddress: mac }, 'set-name': CONFIG_DRIVE_NIC } : {}),
        addresses,
        ...(routes.length > 0 ? { routes } : {}),
        ...(Object.keys(nameservers).length > 0 ? { nameservers } : {}),
      },
    },
  };

  const meta = { 'instance-id': input.instance, 'local-hostname': hostnameOf(input, ipv4, domain, warnings) };
  const files: DriveFile[] = [
    { name: META_DATA, content: `${JSON.stringify(meta, null, 2)}\n` },
    { name: NETWORK_CONFIG, content: `${JSON.stringify(network, null, 2)}\n` },
  ];
  if (input.userData !== undefined && input.userData !== '') {
    const bytes = strictBase64(input.userData);
    if (bytes === undefined) warnings.push(`${input.instance}: user data is not valid base64: its config drive is built without user-data`);
    else if (bytes.length > 0) files.push({ name: USER_DATA, content: bytes.toString('base64'), encoding: 'base64' });
  }
  return { instance: input.instance, files };
}
