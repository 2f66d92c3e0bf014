/**
 * The API refuses every permission netd could not render exactly (issue 11
 * class 1), with the EC2 error code, and accepts the edge values that do
 * render exactly (shared/gni/rule-check.ts agrees on each).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePermission } from '../../../src/cloud-controller/services/permission.ts';
import { checkRule } from '../../../src/shared/gni/rule-check.ts';

const code = (f: () => unknown): string | undefined => {
  try { f(); return undefined; } catch (err) { return (err as { code?: string }).code; }
};

test('values iptables would widen are refused with InvalidParameterValue', () => {
  assert.equal(code(() => parsePermission({ protocol: 0 }, [0, 132])), 'InvalidParameterValue', 'protocol 0 = every protocol');
  assert.equal(code(() => parsePermission({ protocol: '-1' }, [132])), 'InvalidParameterValue', 'all protocols');
  assert.equal(code(() => parsePermission({ protocol: 'icmp', icmp: '255:-1' }, [])), 'InvalidParameterValue', 'icmp type 255 = any');
  assert.equal(code(() => parsePermission({ protocol: 'icmp', icmp: '255:3' }, [])), 'InvalidParameterValue');
  assert.equal(code(() => parsePermission({ protocol: 'icmp', icmp: '-1:0' }, [])), 'InvalidParameterValue', 'a code without a type');
  assert.equal(code(() => parsePermission({ protocol: 'tcp', port: '22', cidr: '10.0.0.5/8' }, [])), 'InvalidParameterValue', 'host bits');
  assert.equal(code(() => parsePermission({ protocol: 'tcp', port: '65536' }, [])), 'InvalidParameterValue');
  assert.equal(code(() => parsePermission({ protocol: 132, port: '80' }, [132])), 'InvalidPermission.Malformed', 'ports on sctp');
});

test('every accepted edge value is a rule netd renders exactly', () => {
  const inputs = [
    { protocol: 'icmp', icmp: '254:255' }, { protocol: 'icmp', icmp: '8:-1' }, { protocol: 'icmp', icmp: '-1:-1' }, { protocol: 'icmp', icmp: '0:0' },
    { protocol: 'tcp', port: '0' }, { protocol: 'tcp', port: '-1' }, { protocol: 'udp', port: '65535' }, { protocol: 255 },
  ];
  for (const input of inputs) {
    const p = parsePermission(input, [255]);
    assert.equal(checkRule({ ...p, cidr: p.cidr ?? '0.0.0.0/0' }), undefined, JSON.stringify(input));
  }
});
