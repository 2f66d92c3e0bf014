/**
 * The registry of supervised-process drivers: one entry per kind that may
 * appear in DesiredState.processes. A new daemon (a router-advertisement
 * server, a BGP speaker) is a driver file next to dhcpd.ts plus one entry
 * here; render adds its SupervisedProcess, and plan, apply, observe, flush and
 * the daemon's back-off handle it without another line.
 */
import { birdDriver } from './bird.ts';
import { dhcpdDriver } from './dhcpd.ts';
import { radvdDriver } from './radvd.ts';
import type { ProcessDriver } from './process-driver.ts';

export type DriverRegistry = ReadonlyMap<string, ProcessDriver>;

export function driverRegistry(drivers: readonly ProcessDriver[]): DriverRegistry {
  return new Map(drivers.map((d) => [d.kind, d] as const));
}

/** The drivers netd runs with. Tests may pass their own registry (SyncDeps.drivers, ApplyContext.drivers). */
export const PROCESS_DRIVERS: DriverRegistry = driverRegistry([birdDriver, dhcpdDriver, radvdDriver]);
