/**
 * ROUTED: a sync soon after an instance port changes (issue 17). A routed
 * port's gateway addresses, /32 + /128 routes and permanent neighbours are
 * laid down only by a sync (plan/routed.ts plans ports that exist), and a
 * link that goes down loses its IPv6 gateway address and its routes in the
 * kernel; BIRD announces a prefix only while its port is up. Without this
 * watcher a VM's new or restarted `vn_<id>` waited for the next periodic
 * resync (up to EDGENET_RESYNC_INTERVAL, 60 s).
 *
 * How: one long-running `ip -o monitor link` (HostOps.monitorLinks, through
 * the Exec seam), not a poll of /sys/class/net. The monitor is told by the
 * kernel (rtnetlink) and costs nothing while nothing happens; a 250 ms poll
 * would be 4 directory reads a second on every ROUTED node for ever, would
 * still be up to 250 ms late, and /sys is the mount namespace's view, which
 * is not the network namespace netd's tools run in when they are prefixed
 * (`ip netns exec`: the integration tests, the lab's in-process use): the
 * monitor runs wherever the other tools run. The monitor is the one extra
 * process, and only on a node whose last rendered state was ROUTED
 * (`enable(desired.routed !== undefined)` after each sync): an EDGE node
 * runs none.
 *
 * What counts: a line naming a `vn_*` link whose (ifindex, flags, operstate)
 * differs from the last one seen for that name, or its deletion. netd's own
 * MAC pin on a port is a link event too, with the same flags: ignored, so a
 * sync does not ask for another. Its link-up is a real change and asks for
 * one more (converged) sync, which writes nothing.
 *
 * Debounce: the first counted event arms one timer (DEBOUNCE_MS); events
 * until it fires join it, so a burst (a VM start: create, MAC, up, carrier)
 * is one request, at most DEBOUNCE_MS after its first event. The daemon's
 * runner coalesces further (one sync at a time, a request during a sync
 * runs one more afterwards).
 *
 * Robustness: a monitor that ends without being stopped (killed, `ip`
 * missing) is restarted after 1 s, then 2, 4, ... up to 30 s (reset after it
 * has run for RESTART_STABLE_MS), with a warning each time. Every (re)start
 * also asks for one sync: events between the sync that enabled the watcher
 * (or the monitor's death) and its subscription are not seen, the kernel
 * state is. The periodic resync stays the last resort for anything missed.
 */
import type { Clock, TimerHandle } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { HostOps, LinkMonitor } from './apply/host.ts';
import { INSTANCE_INTERFACE_PREFIX } from './names.ts';

/** From a port's first counted event to the sync request (a VM start's events come within a few ms). */
const PORT_EVENT_DEBOUNCE_MS = 75;
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
const RESTART_STABLE_MS = 60_000;

export interface PortWatcherOptions {
  readonly host: Pick<HostOps, 'monitorLinks'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A `vn_*` link appeared, changed its up/down state or disappeared (debounced). */
  readonly onPortChange: () => void;
  readonly debounceMs?: number;
}

/** One `ip -o monitor link` line: the link's name and what we compare, or undefined for a line that is not a link. */
export function parseLinkLine(line: string): { name: string; deleted: boolean; signature: string } | undefined {
  const m = /^(Deleted )?(\d+): ([^@:\s]+)(?:@[^:\s]*)?: <([^>]*)>(?:.*?\bstate (\S+))?/.exec(line);
  if (!m) return undefined;
  return { name: m[3]!, deleted: m[1] !== undefined, signature: `${m[2]} <${m[4]}> ${m[5] ?? ''}` };
}

export class PortWatcher {
  private monitor: LinkMonitor | undefined;
  private enabled = false;
  private debounce: TimerHandle | undefined;
  private restartTimer: TimerHandle | undefined;
  private restarts = 0;
  private startedAt = 0;
  /** Last (ifindex, flags, state) per `vn_*` name since the monitor started. */
  private readonly seen = new Map<string, string>();

  constructor(private readonly opts: PortWatcherOptions) {}

  /** Whether a monitor runs now. */
  get running(): boolean {
    return this.monitor !== undefined;
  }

  /** Starts the monitor (ROUTED) or stops it (any other mode); idempotent. */
  enable(on: boolean): void {
    if (on === this.enabled) return;
    this.enabled = on;
    if (on) {
      this.restarts = 0;
      this.startMonitor();
    } else this.halt();
  }

  /** Ends everything (daemon stop): no timer, no monitor. */
  stop(): void {
    this.enabled = false;
    this.halt();
  }

  private halt(): void {
    if (this.restartTimer) this.opts.clock.clearTimeout(this.restartTimer);
    if (this.debounce) this.opts.clock.clearTimeout(this.debounce);
    this.restartTimer = undefined;
    this.debounce = undefined;
    const m = this.monitor;
    this.monitor = undefined;
    m?.stop();
  }

  private startMonitor(): void {
    this.restartTimer = undefined;
    this.seen.clear();
    this.startedAt = this.opts.clock.now();
    let monitor: LinkMonitor;
    try {
      monitor = this.opts.host.monitorLinks((line) => this.onLine(line));
    } catch (err) {
      this.died(`cannot start: ${(err as Error).message}`);
      return;
    }
    this.monitor = monitor;
    void monitor.exited.then(() => {
      // Stopped on purpose (halt cleared it, or a newer monitor replaced it): nothing to do.
      if (this.monitor !== monitor) return;
      this.monitor = undefined;
      this.died('exited');
    });
    // What changed before the monitor subscribed is seen by a sync, not by an event.
    this.arm();
  }

  private died(why: string): void {
    if (!this.enabled) return;
    const now = this.opts.clock.now();
    if (now - this.startedAt >= RESTART_STABLE_MS) this.restarts = 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.restarts);
    this.restarts += 1;
    this.opts.logger.warn(`the link monitor (ip -o monitor link) ${why}; restarting it`, {
      restartInMs: delay,
      hint: 'until then a new or restarted instance port is routed at the next periodic resync',
    });
    this.restartTimer = this.opts.clock.setTimeout(() => {
      if (this.enabled && this.monitor === undefined) this.startMonitor();
    }, delay);
  }

  private onLine(line: string): void {
    const link = parseLinkLine(line);
    if (link === undefined || !link.name.startsWith(INSTANCE_INTERFACE_PREFIX)) return;
    if (link.deleted) {
      this.seen.delete(link.name);
    } else {
      if (this.seen.get(link.name) === link.signature) return; // a MAC or MTU change, say: nothing a sync would do
      this.seen.set(link.name, link.signature);
    }
    this.arm();
  }

  private arm(): void {
    if (this.debounce !== undefined || !this.enabled) return;
    this.debounce = this.opts.clock.setTimeout(() => {
      this.debounce = undefined;
      this.opts.onPortChange();
    }, this.opts.debounceMs ?? PORT_EVENT_DEBOUNCE_MS);
  }
}
