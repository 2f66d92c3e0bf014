/**
 * render/instance-guard.ts on values (issue 11 classes 3 and 5): which hosts
 * are control-plane hosts, how EDGENET_CONTROL_PLANE_PORTS shapes the drops,
 * and that broadcast/multicast to an instance port runs through exactly that
 * instance's groups. The packets themselves are tested in
 * test/integration/netd-hardening-traffic.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { DEFAULT_NETD_CONFIG, checkPortList, parseNetdConfig } from '../../../src/netd/config.ts';
import { netdNames } from '../../../src/netd/names.ts';
import { render } from '../../../src/netd/render/render.ts';
import type { DesiredState } from '../../../src/netd/render/types.ts';
import { ruleArgs } from '../../../src/netd/netfilter/rule-args.ts';

const N = netdNames('EDGENET');

function doc(): GniDocument {
  const cluster = (name: string, cc: string, nodes: { name: string; instanceIds: string[] }[]) => ({
    name, subnet: { name: '10.10.0.0', subnet: '10.10.0.0', netmask: '255.255.0.0', gateway: '10.10.0.1' }, enabledCcIp: cc, macPrefix: 'd0:0d',
    privateIps: ['10.10.1.2-10.10.2.254'], nodes,
  });
  return {
    version: 'v1', sequence: 1,
    configuration: {
      mode: 'EDGE', publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsServers: [], subnets: [],
      clusters: [
        cluster('a', '10.0.0.6', [{ name: '10.0.0.21', instanceIds: ['i-00000001', 'i-00000002'] }, { name: '10.0.0.22', instanceIds: [] }]),
        cluster('b', '10.0.1.6', [{ name: 'node-by-name', instanceIds: [] }]),
      ],
    },
    instances: [
      { name: 'i-00000001', ownerId: '1', macAddress: 'd0:0d:00:00:00:01', privateIp: '10.10.1.5', securityGroups: ['sg-0000000b', 'sg-0000000a'] },
      { name: 'i-00000002', ownerId: '1', macAddress: 'd0:0d:00:00:00:02', privateIp: '10.10.1.6', securityGroups: [] },
    ],
    securityGroups: [{ name: 'sg-0000000a', ownerId: '1', ingressRules: [] }, { name: 'sg-0000000b', ownerId: '1', ingressRules: [] }],
  } as GniDocument;
}

function state(extra: Partial<typeof DEFAULT_NETD_CONFIG> = {}): DesiredState {
  const r = render(doc(), { node: '10.0.0.21' }, { ...DEFAULT_NETD_CONFIG, ...extra }, { bridgeMac: '02:00:00:00:00:01' });
  assert.ok(r.ok);
  return r.state;
}
const fwd = (s: DesiredState) => s.iptables.filter.chains.find((c) => c.name === N.filterForward)!.rules.map((r) => ruleArgs(r).join(' '));

test('the hosts set holds every node, CC and the CLC of the document, and METADATA_IP; names that are not addresses are left out', () => {
  assert.deepEqual(state().ipsets.find((s) => s.name === N.hostsSet)?.members, ['10.0.0.5', '10.0.0.6', '10.0.0.21', '10.0.0.22', '10.0.1.6']);
  assert.deepEqual(state({ metadataIp: '192.0.2.9' }).ipsets.find((s) => s.name === N.hostsSet)?.members.includes('192.0.2.9'), true);
});

test('control-plane drops: to cloud hosts in FWD and to this node in IN, metadata through its DNAT exempt; the port list is configurable and can be off', () => {
  const s = state();
  assert.match(fwd(s)[0]!, /^-p tcp -m physdev --physdev-in vn_\+ -m set --match-set EDGENET-HOSTS dst -m multiport --dports 8770,8773:8775,9770:9776 -m conntrack ! --ctorigdst 169\.254\.169\.254 -j DROP$/);
  const input = s.iptables.filter.chains.find((c) => c.name === N.filterInput)!;
  assert.deepEqual(input.rules.map((r) => ruleArgs(r).join(' ')), ['-p tcp -m physdev --physdev-in vn_+ -m multiport --dports 8770,8773:8775,9770:9776 -m conntrack ! --ctorigdst 169.254.169.254 -j DROP']);
  assert.match(fwd(state({ controlPlanePorts: '22,8000:8100' }))[0]!, /--dports 22,8000:8100 /);
  const off = state({ controlPlanePorts: '' });
  assert.equal(fwd(off).some((r) => r.includes('multiport')), false);
  assert.deepEqual(off.iptables.filter.chains.find((c) => c.name === N.filterInput)?.rules, []);
});

test('broadcast and multicast to an instance port go through that instance\'s groups (sorted), then drop; an instance without groups only drops', () => {
  const rules = fwd(state()).filter((r) => r.includes('--physdev-out'));
  assert.deepEqual(rules, [
    '-m physdev --physdev-out vn_i-00000001 -m set ! --match-set EDGENET-LOCAL dst -j EDGENET-sg-0000000a',
    '-m physdev --physdev-out vn_i-00000001 -m set ! --match-set EDGENET-LOCAL dst -j EDGENET-sg-0000000b',
    '-m physdev --physdev-out vn_+ -m set ! --match-set EDGENET-LOCAL dst -j DROP',
  ]);
  const all = fwd(state());
  assert.ok(all.indexOf(rules[2]!) < all.findIndex((r) => r.includes('RELATED,ESTABLISHED')), 'before established: a broadcast is never a reply');
  assert.ok(all.indexOf(rules[2]!) < all.findIndex((r) => r.includes('--physdev-in vn_+ -m set ! --match-set')), 'before the egress accept that used to let it through');
});

test('EDGENET_CONTROL_PLANE_PORTS is validated like a multiport list', () => {
  assert.equal(checkPortList('8770,8773:8775,9770:9776'), undefined);
  assert.equal(checkPortList(''), undefined);
  for (const bad of ['0', '65536', '10:5', '8770;8771', '1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16']) assert.notEqual(checkPortList(bad), undefined, bad);
  const r = parseNetdConfig('EDGENET_CONTROL_PLANE_PORTS="8775:8770"');
  assert.equal(r.ok, false);
  const d = parseNetdConfig('');
  assert.ok(d.ok);
  assert.equal(d.value.controlPlanePorts, '8770,8773:8775,9770:9776');
});
