/**
 * netd's real HostOps working inside a network namespace, for integration
 * tests that run netd's sync or daemon in the test process: every tool runs
 * through `ip netns exec <ns>`, and sysctls go through sysctl(8) in that
 * namespace (the test process's own /proc/sys is the host's), with the same
 * key convention as the real host (an interface name's dots as '/').
 */
import type { HostOps } from '../../src/netd/apply/host.ts';
import { createLinuxHost } from '../../src/netd/apply/linux-host.ts';
import { prefixedExec, type Exec } from '../../src/shared/exec.ts';
import { createFiles } from '../../src/shared/files.ts';

export function namespacedHost(exec: Exec, ns: string): HostOps {
  const inNs = prefixedExec(exec, ['ip', 'netns', 'exec', ns]);
  const real = createLinuxHost({ exec: inNs, files: createFiles() });
  return {
    ...real,
    readSysctl: async (key) => {
      const r = await inNs.run(['sysctl', '-n', key], { okExitCodes: [0, 1, 255], timeoutMs: 30_000 });
      return r.exitCode === 0 ? r.stdout.trim() : undefined;
    },
    writeSysctl: async (key, value) => {
      await inNs.run(['sysctl', '-qw', `${key}=${value}`], { timeoutMs: 30_000 });
    },
  };
}
