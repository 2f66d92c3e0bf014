/**
 * Guard for tests that need root (network namespaces, iptables, dhcpd). Without
 * root they are skipped with a loud message; under CI=true that is a failure,
 * never a silent skip.
 */
import type { TestContext } from 'node:test';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Returns true when the test may proceed; otherwise skips (or fails under CI). */
export function requireRoot(t: TestContext, what = 'this test'): boolean {
  if (isRoot()) return true;
  const msg = `${what} needs root (network namespaces, netfilter, dhcpd) and was NOT run`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI=true makes this a failure`);
  process.stderr.write(`\n!!! SKIPPED: ${msg}\n`);
  t.skip(msg);
  return false;
}
