/**
 * Metrics every daemon exposes, whatever its own:
 * - `edgenet_build_info{component,version[,commit],node}` 1;
 * - `edgenet_certificate_expiry_days{component,certificate,file}` for each
 *   certificate it loads (`ca` and its own `NAME`), read at scrape time so a
 *   renewed certificate shows without a restart; a file that cannot be read
 *   is left out (--check-config says why).
 * And the fields every /healthz answer starts with: {status, version, component}.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import { buildInfo } from './build-info.ts';
import { certificateDaysLeft } from './certificate-expiry.ts';

export interface CertificateRef {
  readonly dir: string;
  readonly name: string;
}

export function registerDaemonMetrics(registry: Registry, component: string, certs: () => readonly CertificateRef[] = () => []): void {
  const info = buildInfo();
  const build = new Gauge({
    name: 'edgenet_build_info',
    help: 'Always 1; the labels say which build runs (version from package.json, git commit when known)',
    labelNames: ['component', 'version', 'commit', 'node'],
    registers: [registry],
  });
  build.set({ component, version: info.version, commit: info.commit ?? '', node: process.version }, 1);
  new Gauge({
    name: 'edgenet_certificate_expiry_days',
    help: 'Days until a certificate this daemon loads expires (negative: expired)',
    labelNames: ['component', 'certificate', 'file'],
    registers: [registry],
    collect() {
      this.reset();
      for (const ref of certs()) {
        for (const [label, file] of [['ca', path.join(ref.dir, 'ca.crt')], [ref.name, path.join(ref.dir, `${ref.name}.crt`)]] as const) {
          try {
            const days = certificateDaysLeft(new X509Certificate(readFileSync(file)));
            this.set({ component, certificate: label, file }, Math.round(days * 100) / 100);
          } catch {
            // unreadable or missing: no sample (the daemon logged it at start)
          }
        }
      }
    },
  });
}

/** The fields every /healthz body starts with. */
export function healthFields(component: string, ok: boolean): { status: 'ok' | 'unhealthy'; ok: boolean; version: string; commit?: string; component: string } {
  const info = buildInfo();
  return { status: ok ? 'ok' : 'unhealthy', ok, version: info.version, ...(info.commit ? { commit: info.commit } : {}), component };
}
