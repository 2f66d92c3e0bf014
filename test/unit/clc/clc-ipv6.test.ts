/**
 * CLC_IPV6 (issue 14): the CLC's IPv6 address, from flag, environment or
 * clc.conf; empty means none; a value that is not a unicast IPv6 address the
 * nodes can reach is a configuration error (CONFIG_BAD_VALUE); the value is
 * kept in RFC 5952 text, so the document's clc-address has one spelling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveClcConfig } from '../../../src/cloud-controller/main.ts';

const resolve = (flags: Parameters<typeof resolveClcConfig>[0], env: NodeJS.ProcessEnv = {}) => resolveClcConfig(flags, env);
const problems = (r: ReturnType<typeof resolve>) => r.diagnostics.filter((d) => d.path === 'CLC_IPV6').map((d) => d.code);

test('CLC_IPV6: unset or empty is none', () => {
  assert.equal(resolve({}).config.clcIpv6, undefined);
  assert.equal(resolve({}, { EDGENET_CLC_CLC_IPV6: '' }).config.clcIpv6, undefined);
  assert.deepEqual(problems(resolve({})), []);
});

test('CLC_IPV6: flag over environment, written canonically', () => {
  assert.equal(resolve({}, { EDGENET_CLC_CLC_IPV6: 'FD00:172:31:0::2' }).config.clcIpv6, 'fd00:172:31::2');
  assert.equal(resolve({ clcIpv6: '2001:db8::5' }, { EDGENET_CLC_CLC_IPV6: 'fd00:172:31::2' }).config.clcIpv6, '2001:db8::5');
});

test('CLC_IPV6: not an address, or not a reachable unicast one, is refused', () => {
  for (const bad of ['10.0.0.5', 'fd00::2%eth0', '2001::db8::1', '::', '::1', 'ff02::1', 'fe80::2', '::ffff:10.0.0.5']) {
    const r = resolve({ clcIpv6: bad });
    assert.deepEqual(problems(r), ['CONFIG_BAD_VALUE'], bad);
    assert.equal(r.config.clcIpv6, undefined, bad);
  }
});
