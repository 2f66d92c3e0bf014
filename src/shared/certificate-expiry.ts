/**
 * How long a certificate has left. One formula for `--check-config`
 * (config/checks.ts warns under 30 days) and the expiry gauge every daemon
 * exports (daemon-metrics.ts), so the two never disagree.
 */
import type { X509Certificate } from 'node:crypto';

/** Days until `cert` expires (negative: expired). */
export function certificateDaysLeft(cert: X509Certificate, now = Date.now()): number {
  return (Date.parse(cert.validTo) - now) / 86_400_000;
}
