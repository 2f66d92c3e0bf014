import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { labPlan, labNetworkConfiguration, labNetdConf, assertLabName } from '../../../src/lab/plan.ts';
import { parseNetdConfig } from '../../../src/netd/config.ts';
import { evaluateNetworkConfiguration } from '../../../src/cloud-controller/properties/network-config.ts';
import { openTopology } from '../../../src/lab/topology.ts';
import { createExec } from '../../../src/shared/exec.ts';
import { clcSpec, ncSpec, netdSpec } from '../../../src/lab/daemons.ts';
import { detachedArgv, EXAMPLE_CONFIGURATION } from '../../../src/lab/up.ts';

const plan = labPlan('t1', '/tmp/lab-t1');

test('the plan lays every file under the lab dir and names namespaces with the prefix', () => {
  assert.equal(plan.prefix, 'edgenet_t1');
  assert.equal(plan.stateFile, '/tmp/lab-t1/lab.json');
  assert.deepEqual(plan.nodes.map((n) => [n.short, n.name, n.publicIp, n.vmIp]), [
    ['n1', '172.31.0.11', '203.0.113.11', '10.111.0.11'],
    ['n2', '172.31.0.12', '203.0.113.12', '10.111.0.12'],
  ]);
  for (const p of [...Object.values(plan.paths), ...plan.nodes.flatMap((n) => [n.runDir, n.netdConfFile, n.ncLog, n.netdLog])]) {
    assert.ok(p.startsWith('/tmp/lab-t1/'), p);
  }
  // The topology spec is valid (openTopology validates without creating anything).
  const topo = openTopology(plan.topology, { exec: createExec() });
  assert.equal(topo.nodeNs('n2'), 'edgenet_t1-n2');
  assert.throws(() => assertLabName('Bad-Name'), { code: 'LAB_BAD_NAME' });
});

test("the lab's network configuration is a valid copy of the example with the lab's addresses", () => {
  const example = JSON.parse(readFileSync(EXAMPLE_CONFIGURATION, 'utf8')) as Record<string, unknown>;
  const config = labNetworkConfiguration(plan, example);
  assert.deepEqual(config.PublicIps, ['203.0.113.100-203.0.113.120']);
  const outcome = evaluateNetworkConfiguration(JSON.stringify(config), () => undefined);
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
});

test('netd.conf parses with netd\'s own parser and names the node', () => {
  const node = plan.nodes[0]!;
  const parsed = parseNetdConfig(labNetdConf(plan, node));
  assert.equal(parsed.ok, true, JSON.stringify(parsed));
  if (!parsed.ok) return;
  assert.equal(parsed.value.nodeName, '172.31.0.11');
  assert.equal(parsed.value.bridge, 'br0');
  assert.equal(parsed.value.publicInterface, 'pub0');
  assert.equal(parsed.value.metadataUseVmPrivate, true);
  assert.equal(parsed.value.runDir, node.runDir);
});

test('daemon command lines: the CLC in ctl with the lab dirs, NC and netd per node; output redirected by a fixed script', () => {
  const clc = clcSpec(plan, 'edgenet_t1-ctl');
  assert.equal(clc.ns, 'edgenet_t1-ctl');
  assert.ok(clc.argv.includes('--clc-ip') && clc.argv.includes('172.31.0.2'));
  assert.equal(clc.env.EDGENET_STATE_DIR, '/tmp/lab-t1/state');
  assert.equal(clc.env.EDGENET_METADATA_LISTEN, '172.31.0.2:8773');
  const nc = ncSpec(plan, plan.nodes[1]!, 'edgenet_t1-n2');
  assert.deepEqual(nc.argv.slice(2, 5), ['nc', '--listen', '172.31.0.12:8775']);
  assert.deepEqual(netdSpec(plan, plan.nodes[1]!, 'edgenet_t1-n2').argv.slice(2), ['netd', 'run', '--config', '/tmp/lab-t1/nodes/n2/netd.conf']);
  const wrapped = detachedArgv(['node', 'x y', '$(evil)']);
  assert.deepEqual(wrapped.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(wrapped.slice(-3), ['node', 'x y', '$(evil)'], 'arguments pass as "$@", never interpolated');
});
