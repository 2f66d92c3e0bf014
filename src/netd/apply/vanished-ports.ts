/**
 * Instance ports that vanish during a sync. A `vn_<id>` port is created and
 * removed by whatever runs the VM, never by netd, so it can go between the
 * sync's observe and its apply (a VM stopped while its instance is still in
 * the document, or terminated and its port removed right after). A step on
 * such a port then fails for a reason that says nothing about the rest of the
 * plan; the applier (apply.ts) records it as skipped and goes on, and the
 * next sync (ROUTED: the one the port watcher starts; EDGE: the next document
 * or the periodic resync) observes the port gone anyway.
 *
 * Invariants: whether a port is gone is asked of the kernel after the failure
 * (one fresh links read), never guessed from the error's text, so a failure
 * on a port that is still there fails the sync exactly as before; only steps
 * that concern one instance port qualify (`instancePortOf`), every other step
 * fails as before. A port found gone stays gone for the rest of the apply:
 * its later steps are skipped without a try (a port re-created under the same
 * name meanwhile is a new link, whose appearance starts another sync).
 */
import type { Step } from '../plan/steps.ts';
import { isInstancePort } from '../plan/routed.ts';
import type { HostOps } from './host.ts';

/** The interface of a per-interface sysctl key (`net.ipv4.conf.<if>.<name>`, `net.ipv6.conf.<if>.<name>`; the name's dots written as '/'). */
function sysctlInterface(key: string): string | undefined {
  const parts = key.split('.');
  if (parts.length < 5 || parts[0] !== 'net' || (parts[1] !== 'ipv4' && parts[1] !== 'ipv6') || parts[2] !== 'conf') return undefined;
  return parts[3]!.replaceAll('/', '.');
}

const instancePort = (name: string | undefined): string | undefined => (name !== undefined && isInstancePort(name) ? name : undefined);

/** The instance port a step concerns alone (its sysctls, its link, its addresses, routes and neighbours); undefined for every other step. */
export function instancePortOf(step: Step): string | undefined {
  switch (step.kind) {
    case 'sysctl-set':
      return instancePort(sysctlInterface(step.key));
    case 'link-mac':
    case 'link-up':
    case 'link-attach':
    case 'link-hairpin':
    case 'link-nomaster':
      return instancePort(step.name);
    case 'port-addr-add':
    case 'port-addr-del':
      return instancePort(step.interface);
    case 'port-route-replace':
    case 'port-route-del':
    case 'neigh-replace':
    case 'neigh-del':
      return instancePort(step.dev);
    default:
      return undefined;
  }
}

/** What one apply knows of vanished ports. */
export interface VanishedPorts {
  /** Whether `port` was found gone earlier in this apply. */
  gone(port: string): boolean;
  /**
   * After a failure: which of `ports` the kernel no longer has (one links
   * read). Empty when all are there or the read itself failed (then nothing
   * can be told, and the step fails as it would have).
   */
  check(ports: Iterable<string>): Promise<ReadonlySet<string>>;
}

export function vanishedPorts(host: HostOps): VanishedPorts {
  const known = new Set<string>();
  return {
    gone: (port) => known.has(port),
    async check(ports) {
      let present: Set<string>;
      try {
        present = new Set((await host.links()).map((l) => l.name));
      } catch {
        return new Set();
      }
      const now = new Set<string>();
      for (const p of ports) {
        if (present.has(p)) continue;
        known.add(p);
        now.add(p);
      }
      return now;
    },
  };
}

/** The description of a step skipped because its port vanished (status, events and the daemon's log show it). */
export function vanishedDescription(port: string, what: string): string {
  return `port ${port} vanished during the sync; skipped: ${what}`;
}
