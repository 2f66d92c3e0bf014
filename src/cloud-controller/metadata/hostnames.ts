/**
 * Instance host names, Eucalyptus's scheme (pure): `euca-` + the address with
 * dashes + `.` + a domain.
 * - private (`local-hostname`, `hostname`): the instance DNS domain, i.e. the
 *   network configuration's `InstanceDnsDomain`, by default
 *   `cloud.vmstate.instance_subdomain` (`.eucalyptus`) + `.internal`:
 *   `euca-10-111-1-5.eucalyptus.internal`;
 * - public (`public-hostname`): the instance subdomain under the cloud's DNS
 *   domain (`system.dns.dnsdomain`, Eucalyptus's default `localhost`):
 *   `euca-203-0-113-50.eucalyptus.localhost`.
 */

const DEFAULT_INSTANCE_SUBDOMAIN = '.eucalyptus';
const DEFAULT_PUBLIC_DNS_DOMAIN = 'localhost';

export function eucaHostname(ip: string, domain: string): string {
  return `euca-${ip.replaceAll('.', '-')}.${domain.replace(/^\.+/, '').replace(/\.+$/, '')}`;
}

export interface HostnameDomains {
  /** For private names. */
  readonly privateDomain: string;
  /** For public names. */
  readonly publicDomain: string;
}

export function hostnameDomains(input: { instanceDnsDomain?: string; instanceSubdomain?: string; dnsDomain?: string }): HostnameDomains {
  const sub = (input.instanceSubdomain ?? DEFAULT_INSTANCE_SUBDOMAIN).replace(/^\.+/, '') || 'eucalyptus';
  return {
    privateDomain: input.instanceDnsDomain || `${sub}.internal`,
    publicDomain: `${sub}.${(input.dnsDomain || DEFAULT_PUBLIC_DNS_DOMAIN).replace(/^\.+/, '')}`,
  };
}
