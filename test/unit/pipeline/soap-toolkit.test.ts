/**
 * An implementation we did not write talks to ours: the `soap` package builds
 * a client from the cluster controller's WSDL and calls edgenet's SOAP server
 * (over mutual TLS, as the CLC does) with the CC's reply writers behind it.
 * It must read every field of each reply, and edgenet's reader must read the
 * qualified request it writes from the same WSDL. The schema-level check of
 * each message is wsdl-conformance.test.ts; this one shows a schema-driven
 * toolkit agrees.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as soap from 'soap';
import { tlsFixture } from '../../helpers/tls-fixture.ts';
import { startSoapServer, type RunningServer } from '../../../src/shared/soap/server.ts';
import { readWsdl } from '../../../src/shared/soap/wsdl.ts';
import { envelope } from '../../../src/shared/soap/envelope.ts';
import { broadcastReplyInner, parseBroadcast, statusReplyInner, type BroadcastRequest, type NodeReport } from '../../../src/shared/soap/messages.ts';
import { nullLogger } from '../../../src/shared/logger.ts';

const fixture = tlsFixture('edgenet-soap-toolkit-');
const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-soap-toolkit-wsdl-'));
const servers: RunningServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const node: NodeReport = {
  name: '10.0.0.21',
  url: 'https://10.0.0.21:8775/',
  deliveredVersion: 'a1b2c3d4',
  deliveredSequence: 42,
  deliveredGeneration: 3,
  deliveredAt: '2026-01-01T00:00:01.000Z',
  result: 'failed',
  appliedVersion: '0f0e0d0c',
  appliedSequence: 41,
  appliedGeneration: 3,
  appliedAt: '2026-01-01T00:00:02.000Z',
  statusAt: '2026-01-01T00:00:03.000Z',
  lastError: 'restore failed <line 3>',
  polledAt: '2026-01-01T00:00:05.000Z',
  netdLiveness: 'running',
  netdPid: 4242,
  netdHeartbeatAt: '2026-01-01T00:00:04.000Z',
  netdHeartbeatAgeMs: 1200,
};

/** What a toolkit may have turned a value into (number, boolean, Date), back to the text on the wire. */
function wire(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

async function client(): Promise<soap.Client> {
  const received: BroadcastRequest[] = [];
  const server = await startSoapServer(
    {
      tls: fixture.material.cc,
      allowedRole: 'clc',
      maxRequestBytes: 1 << 20,
      wsdl: readWsdl('cluster-controller'),
      logger: nullLogger(),
      operations: {
        BroadcastNetworkInfo: async (el) => {
          const req = parseBroadcast(el);
          received.push(req);
          return envelope('BroadcastNetworkInfoResponse', broadcastReplyInner(req, { outcome: 'stored', version: req.version, sequence: req.sequence, generation: 3 }));
        },
        DescribeNetworkStatus: async () =>
          envelope('DescribeNetworkStatusResponse', statusReplyInner({ version: 'a1b2c3d4', sequence: 42, generation: 3, receivedAt: '2026-01-01T00:00:00.000Z', nodes: [node] })),
      },
    },
    { host: '127.0.0.1', port: 0 },
  );
  servers.push(server);
  const url = `https://127.0.0.1:${server.port}/`;
  const file = path.join(dir, 'cc.wsdl');
  writeFileSync(file, readWsdl('cluster-controller').replaceAll('EDGENET_SERVICE_URL', url));
  const c = await soap.createClientAsync(file, { endpoint: url });
  const { key, cert, ca } = fixture.material.clc;
  c.setSecurity(new soap.ClientSSLSecurity(key, cert, ca));
  (c as unknown as { received: BroadcastRequest[] }).received = received;
  return c;
}

test('soap toolkit: a BroadcastNetworkInfo it writes from our WSDL is read by edgenet, and it reads every field of the reply', async () => {
  const c = await client();
  const networkInfo = Buffer.from('<network-data version="a1b2c3d4"/>').toString('base64');
  const [reply, raw] = (await c.BroadcastNetworkInfoAsync({ correlationId: 'c-1', userId: 'eucalyptus', version: 'a1b2c3d4', networkInfo, sequence: 42, generation: 3, nodes: { node: [{ name: '10.0.0.21', url: 'https://10.0.0.21:8775/' }] } })) as [Record<string, unknown>, string];
  const received = (c as unknown as { received: BroadcastRequest[] }).received;
  assert.deepEqual(received[0], { correlationId: 'c-1', userId: 'eucalyptus', nodeName: undefined, version: 'a1b2c3d4', sequence: 42, generation: 3, networkInfo, nodes: [{ name: '10.0.0.21', url: 'https://10.0.0.21:8775/' }] });
  assert.match(raw, /<euca:statusMessage>stored<\/euca:statusMessage>/);
  assert.deepEqual(
    Object.fromEntries(Object.entries(reply).map(([k, v]) => [k, wire(v)])),
    { correlationId: 'c-1', userId: 'eucalyptus', statusMessage: 'stored', return: 'true', version: 'a1b2c3d4', sequence: '42', generation: '3' },
  );
});

test('soap toolkit: it reads every field of a status reply, every node field included', async () => {
  const c = await client();
  const [reply] = (await c.DescribeNetworkStatusAsync({})) as [Record<string, unknown>];
  const nodes = reply['node'];
  const first = (Array.isArray(nodes) ? nodes[0] : nodes) as Record<string, unknown>;
  assert.deepEqual(
    Object.fromEntries(Object.entries(first).map(([k, v]) => [k, wire(v)])),
    Object.fromEntries(Object.entries(node).map(([k, v]) => [k, String(v)])),
  );
  assert.deepEqual([wire(reply['version']), wire(reply['sequence']), wire(reply['generation']), wire(reply['receivedAt'])], ['a1b2c3d4', '42', '3', '2026-01-01T00:00:00.000Z']);
});
