/**
 * The CC → NC half of the pipeline with real processes over real HTTPS on
 * 127.0.0.1: two cluster controllers, four node controllers (plus one behind a
 * Eucalyptus-configured CC), certificates from `edgenet certs`, a fake netd per
 * node. The test client plays the CLC (certificate role clc).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as soap from 'soap';
import { requireRoot } from '../helpers/root.ts';
import { Lab, broadcast, ccStatus, gniXml, rawPost, waitFor, freePort, type Daemon } from './pipeline-harness.ts';
import { SoapFault, envelope } from '../../src/shared/soap/envelope.ts';
import { NC_ACTIONS, broadcastInner } from '../../src/shared/soap/messages.ts';
import { readGniHeader } from '../../src/shared/gni/header.ts';
import type { SoapClient } from '../../src/shared/soap/client.ts';

type Nc = Awaited<ReturnType<Lab['startNc']>>;
type Cc = Awaited<ReturnType<Lab['startCc']>>;

const lab = new Lab();
let ccA: Cc, ccB: Cc, ccEuca: Cc;
let nodes: Nc[] = [];
let nEuca: Nc;
let clc: SoapClient;
let seq = 100;

const nodesOf = (list: Nc[]) => list.map((n) => ({ name: n.name, url: n.url }));
const underA = () => nodes.slice(0, 2);
const underB = () => nodes.slice(2, 4);

async function headerOf(file: string) {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return readGniHeader(text);
}

async function sendToAll(version: string, sequence: number, filler = 3) {
  const xml = gniXml({ version, sequence, filler });
  await broadcast(clc, ccA.url, { xml, version, sequence, nodes: nodesOf(underA()) });
  await broadcast(clc, ccB.url, { xml, version, sequence, nodes: nodesOf(underB()) });
  return xml;
}

async function allHold(list: Nc[], version: string) {
  return waitFor(`nodes ${list.map((n) => n.name).join(',')} hold ${version}`, async () => {
    for (const n of list) if ((await headerOf(n.gniFile))?.version !== version) return false;
    return true;
  });
}

async function expectFault(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => err instanceof SoapFault && err.code === code);
}

before(async () => {
  if (process.getuid?.() !== 0 && process.env.CI !== 'true') return;
  await lab.makeCerts(Lab.ONE_PER_ROLE);
  nodes = await lab.startFakeNodes(['node-1', 'node-2', 'node-3', 'node-4']);
  [ccA, ccB] = await Promise.all([lab.startCc('cc-a', { extra: ['--fanout', '1'] }), lab.startCc('cc-b')]);
  nEuca = await lab.startNc('node-euca');
  lab.fakeNetd(nEuca);
  const conf = path.join(lab.dir, 'cc-euca.conf');
  await fs.writeFile(conf, `# Eucalyptus-style config\nNODES="node-euca=${nEuca.url}"\nMAX_REQUEST_BYTES=262144\nNC_FANOUT=2\nACCEPT_UNSEQUENCED="Y"\nUNKNOWN_EUCA_KEY="ignored"\n`);
  ccEuca = await lab.startCc('cc-euca', { extra: ['--config', conf] });
  clc = lab.client('clc', 'cc');
});

after(async () => {
  await lab.cleanup();
});

test('a change reaches every node file (atomic, mode 0600) and status shows convergence', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  await sendToAll('v-first', ++seq);
  await allHold(nodes, 'v-first');
  const second = ++seq;
  await sendToAll('v-second', second);
  await allHold(nodes, 'v-second');
  for (const n of nodes) {
    assert.equal(statSync(n.gniFile).mode & 0o777, 0o640, `${n.name} file mode (group edgenet: netd reads it)`);
    assert.equal((await headerOf(n.gniFile))?.sequence, second);
  }
  for (const [cc, list] of [[ccA, underA()], [ccB, underB()]] as const) {
    const st = await waitFor('CC reports applied', async () => {
      const s = await ccStatus(clc, cc.url);
      return s.nodes.length === 2 && s.nodes.every((n) => n.appliedSequence === second && n.result === 'ok') ? s : undefined;
    });
    assert.equal(st.sequence, second);
    assert.deepEqual(st.nodes.map((n) => n.name).sort(), list.map((n) => n.name));
    assert.ok(st.nodes.every((n) => n.deliveredVersion === 'v-second'));
  }
  const metrics = await (await fetch(`http://127.0.0.1:${ccA.metricsPort}/metrics`)).text();
  assert.match(metrics, /edgenet_cc_broadcasts_received_total\{outcome="stored"\} [1-9]/);
  assert.match(metrics, /edgenet_cc_nc_sends_total\{result="ok"\} [1-9]/);
  assert.match(metrics, /edgenet_cc_node_lag_sequences\{node="node-1"\} 0/);
});

test('re-broadcast of the same document does not rewrite node files', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const before = statSync(nodes[0]!.gniFile).mtimeMs;
  const h = await headerOf(nodes[0]!.gniFile);
  const reply = await broadcast(clc, ccA.url, { xml: gniXml({ version: h!.version!, sequence: h!.sequence! }), version: h!.version, sequence: h!.sequence, nodes: nodesOf(underA()) });
  assert.equal(reply.outcome, 'unchanged');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(statSync(nodes[0]!.gniFile).mtimeMs, before);
});

test('an older sequence is refused by the CC and by the NC, and nothing changes', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const heldBefore = readFileSync(nodes[0]!.gniFile, 'utf8');
  await expectFault(broadcast(clc, ccA.url, { xml: gniXml({ version: 'v-old', sequence: 1 }), version: 'v-old', sequence: 1, nodes: nodesOf(underA()) }), 'STALE_SEQUENCE');
  // Straight to the NC with a CC certificate.
  const asCc = lab.client('cc', 'nc');
  const inner = broadcastInner({ version: 'v-old', sequence: 1, networkInfo: Buffer.from(gniXml({ version: 'v-old', sequence: 1 })).toString('base64') });
  await expectFault(asCc.call({ url: nodes[0]!.url, operation: 'ncBroadcastNetworkInfo', action: NC_ACTIONS.broadcast, inner, timeoutMs: 5000 }), 'STALE_SEQUENCE');
  assert.equal((await ccStatus(clc, ccA.url)).sequence, seq);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(readFileSync(nodes[0]!.gniFile, 'utf8'), heldBefore);
});

test('a reader polling the shared file never sees a partial document', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const target = nodes[2]!;
  const sent = new Map<string, string>();
  let stop = false;
  let reads = 0;
  const bad: string[] = [];
  const reader = (async () => {
    while (!stop) {
      const text = await fs.readFile(target.gniFile, 'utf8');
      reads++;
      const v = readGniHeader(text)?.version;
      if (!v || !text.endsWith('</network-data>\n') || (sent.has(v) && sent.get(v) !== text)) bad.push(`read ${reads}: ${text.length} bytes, version ${v}`);
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < 15; i++) {
    const version = `v-big-${i}`;
    const sequence = ++seq;
    const xml = gniXml({ version, sequence, filler: 20_000 }); // ~2.5 MB
    sent.set(version, xml);
    await broadcast(clc, ccB.url, { xml, version, sequence, nodes: nodesOf(underB()) });
    await allHold([target], version);
  }
  stop = true;
  await reader;
  assert.ok(reads > 30, `reader made ${reads} reads`);
  assert.deepEqual(bad, []);
});

test('a CC killed right after accepting a document re-sends it after restart', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const sequence = ++seq;
  const xml = gniXml({ version: 'v-kill', sequence, filler: 30_000 });
  const reply = await broadcast(clc, ccA.url, { xml, version: 'v-kill', sequence, nodes: nodesOf(underA()) });
  assert.equal(reply.outcome, 'stored');
  await ccA.kill('SIGKILL'); // fan-out (NC_FANOUT=1, ~4 MB each) is in flight or not started
  await lab.restart(ccA, ccA.args);
  await allHold(underA(), 'v-kill'); // no further broadcast: the stored document is re-sent
  const st = await ccStatus(clc, ccA.url);
  assert.equal(st.sequence, sequence);
});

test('a node controller that was down receives the latest document when it returns', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const down = nodes[3]!;
  await down.kill('SIGKILL');
  for (const v of ['v-while-down-1', 'v-while-down-2']) await sendToAll(v, ++seq);
  await allHold([nodes[0]!, nodes[1]!, nodes[2]!], 'v-while-down-2');
  const st = await waitFor('CC sees node-4 unreachable', async () => {
    const s = await ccStatus(clc, ccB.url);
    return s.nodes.find((n) => n.name === down.name && n.result === 'unreachable') ? s : undefined;
  });
  assert.ok(st.nodes.find((n) => n.name === down.name)!.lastError);
  assert.notEqual((await headerOf(down.gniFile))?.version, 'v-while-down-2');
  await lab.restart(down, lab.ncArgs(down));
  await allHold([down], 'v-while-down-2');
  assert.equal((await headerOf(down.gniFile))?.sequence, seq);
});

test('a shared file torn by a power loss (header intact, rest missing) is held as nothing and re-sent by the CC', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const node = nodes[3]!;
  const sequence = ++seq;
  const xml = await sendToAll('v-torn', sequence, 2000);
  await allHold(underB(), 'v-torn');
  await node.kill('SIGKILL');
  // What a filesystem that commits the rename before the data can leave: the first block, then nothing.
  await fs.truncate(node.gniFile, 4096);
  assert.equal((await headerOf(node.gniFile))?.version, 'v-torn', 'the header alone would look current');
  await lab.restart(node, lab.ncArgs(node));
  // No new broadcast: the CC's status poll finds the node holding nothing and re-sends.
  await waitFor('the torn file is replaced by the whole document', async () => (await fs.readFile(node.gniFile, 'utf8').catch(() => '')) === xml);
  assert.ok((await fs.readFile(node.logFile, 'utf8')).includes('shared file is incomplete'));
});

test('unauthenticated, wrong-role, malformed, oversized and DOCTYPE/ENTITY requests get Faults and change nothing', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const before = await Promise.all(nodes.map((n) => fs.readFile(n.gniFile, 'utf8')));
  const ccBefore = await ccStatus(clc, ccA.url);
  const ca = readFileSync(path.join(lab.certs, 'ca.crt'));
  const good = (version: string, sequence: number, nodesXml = true) =>
    envelope('BroadcastNetworkInfo', broadcastInner({ version, sequence, networkInfo: Buffer.from(gniXml({ version, sequence })).toString('base64'), nodes: nodesXml ? nodesOf(underA()) : undefined }));
  const asClc = { ca, key: readFileSync(path.join(lab.certs, 'clc.key')), cert: readFileSync(path.join(lab.certs, 'clc.crt')) };
  const asNc = { ca, key: readFileSync(path.join(lab.certs, 'nc.key')), cert: readFileSync(path.join(lab.certs, 'nc.crt')) };
  const faultCode = (body: string) => /<euca:code>([^<]+)<\/euca:code>/.exec(body)?.[1];
  const cases: { what: string; url: string; body: string | Buffer; tls: typeof asClc | { ca: Buffer }; code: string; headers?: Record<string, string> }[] = [
    { what: 'no client certificate', url: ccA.url, body: good('v-evil', 999_999), tls: { ca }, code: 'UNAUTHENTICATED' },
    { what: 'nc role calling a CC', url: ccA.url, body: good('v-evil', 999_999), tls: asNc, code: 'FORBIDDEN_ROLE' },
    { what: 'clc role calling an NC', url: nodes[0]!.url, body: good('v-evil', 999_999, false).replaceAll('BroadcastNetworkInfo', 'ncBroadcastNetworkInfo'), tls: asClc, code: 'FORBIDDEN_ROLE' },
    { what: 'malformed XML', url: ccA.url, body: '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><BroadcastNetworkInfo>', tls: asClc, code: 'MALFORMED_XML' },
    { what: 'not a SOAP envelope', url: ccA.url, body: '<hello/>', tls: asClc, code: 'MALFORMED_SOAP' },
    { what: 'bad Base64', url: ccA.url, body: good('v-evil', 999_999).replace(/<euca:networkInfo>[^<]*/, '<euca:networkInfo>!!not base64!!'), tls: asClc, code: 'BAD_BASE64' },
    { what: 'DOCTYPE in the envelope', url: ccA.url, body: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>${good('v-evil', 999_999).replace(/^<\?xml[^>]*\?>/, '')}`, tls: asClc, code: 'XML_DTD_FORBIDDEN' },
    {
      what: 'ENTITY inside the Base64 document',
      url: ccA.url,
      body: envelope('BroadcastNetworkInfo', broadcastInner({ sequence: 999_999, networkInfo: Buffer.from('<?xml version="1.0"?><!DOCTYPE network-data [<!ENTITY x SYSTEM "file:///etc/passwd">]><network-data version="v-evil" sequence="999999">&x;</network-data>').toString('base64'), nodes: nodesOf(underA()) })),
      tls: asClc,
      code: 'XML_DTD_FORBIDDEN',
    },
    { what: 'not a GNI document', url: ccA.url, body: envelope('BroadcastNetworkInfo', broadcastInner({ sequence: 999_999, networkInfo: Buffer.from('<other/>').toString('base64') })), tls: asClc, code: 'NOT_A_GNI' },
    { what: 'unknown operation', url: ccA.url, body: envelope('TerminateEverything', ''), tls: asClc, code: 'UNKNOWN_OPERATION' },
    { what: 'oversized (Content-Length)', url: ccEuca.url, body: good('v-evil', 999_999).replace('<euca:networkInfo>', `<euca:networkInfo>${'A'.repeat(300_000)}`), tls: asClc, code: 'REQUEST_TOO_LARGE' },
  ];
  for (const c of cases) {
    const res = await rawPost(c.url, c.body, c.tls, c.headers);
    assert.notEqual(res.status, 200, c.what);
    assert.match(res.body, /<soapenv:Fault>/, c.what);
    assert.equal(faultCode(res.body), c.code, `${c.what}: ${res.body.slice(0, 300)}`);
  }
  // Oversized and chunked (no Content-Length): refused while streaming.
  const chunked = await new Promise<{ status: number; body: string }>(async (resolve, reject) => {
    const { request } = await import('node:https');
    const req = request(ccEuca.url, { method: 'POST', ...asClc, headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (let i = 0; i < 40; i++) req.write('A'.repeat(10_000));
    req.end();
  });
  assert.equal(chunked.status, 413);
  assert.equal(faultCode(chunked.body), 'REQUEST_TOO_LARGE');
  // Nothing changed anywhere.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await Promise.all(nodes.map((n) => fs.readFile(n.gniFile, 'utf8'))), before);
  const ccAfter = await ccStatus(clc, ccA.url);
  assert.equal(ccAfter.sequence, ccBefore.sequence);
  assert.equal(ccAfter.version, ccBefore.version);
  // And the refusals were logged.
  const log = readFileSync(ccA.logFile, 'utf8');
  for (const code of ['UNAUTHENTICATED', 'FORBIDDEN_ROLE', 'MALFORMED_XML', 'XML_DTD_FORBIDDEN', 'BAD_BASE64']) assert.match(log, new RegExp(`"code":"${code}"`));
});

test('a Eucalyptus 4.4-shaped BroadcastNetworkInfo is accepted and forwarded to the configured NODES', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const xml = gniXml({ version: 'a1b2c3d4' }); // Eucalyptus: 8-hex version, no sequence
  const euca =
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://eucalyptus.ucsb.edu/">` +
    `<soapenv:Header/><soapenv:Body><ns1:BroadcastNetworkInfo>` +
    `<ns1:correlationId>5c0ffee0-1111-2222-3333-444455556666</ns1:correlationId><ns1:userId>eucalyptus</ns1:userId>` +
    `<ns1:statusMessage></ns1:statusMessage><ns1:return>true</ns1:return><ns1:epoch>42</ns1:epoch>` +
    `<ns1:services><ns1:type>cluster</ns1:type><ns1:name>cc-euca</ns1:name><ns1:partition>one</ns1:partition><ns1:uris>http://10.0.0.6:8774/axis2/services/EucalyptusCC</ns1:uris></ns1:services>` +
    `<ns1:disabledServices/><ns1:notreadyServices/><ns1:nodeName>10.0.0.6</ns1:nodeName>` +
    `<ns1:version>a1b2c3d4</ns1:version><ns1:appliedVersion></ns1:appliedVersion>` + // 4.4.2 wsdl/eucalyptus_cc.wsdl order
    `<ns1:networkInfo>${Buffer.from(xml).toString('base64').replace(/(.{76})/g, '$1\n')}</ns1:networkInfo>` +
    `</ns1:BroadcastNetworkInfo></soapenv:Body></soapenv:Envelope>`;
  const ca = readFileSync(path.join(lab.certs, 'ca.crt'));
  const res = await rawPost(ccEuca.url, euca, { ca, key: readFileSync(path.join(lab.certs, 'clc.key')), cert: readFileSync(path.join(lab.certs, 'clc.crt')) }, { soapaction: '"EucalyptusCC#BroadcastNetworkInfo"' });
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /BroadcastNetworkInfoResponse/);
  // Qualified children, as Eucalyptus's WSDL (elementFormDefault="qualified") wants them.
  assert.match(res.body, /<euca:correlationId>5c0ffee0-1111-2222-3333-444455556666<\/euca:correlationId>/);
  assert.match(res.body, /<euca:return>true<\/euca:return>/);
  // Only what Eucalyptus's broadcastNetworkInfoResponseType defines, and no statusMessage (set only on error).
  assert.doesNotMatch(res.body, /statusMessage|euca:version|euca:sequence/);
  await allHold([nEuca], 'a1b2c3d4');
  assert.equal(readFileSync(nEuca.gniFile, 'utf8'), xml);
});

test('the WSDLs are served at ?wsdl and a standard SOAP toolkit reads them', async (t) => {
  if (!requireRoot(t, 'pipeline integration')) return;
  const ca = readFileSync(path.join(lab.certs, 'ca.crt'));
  const { request } = await import('node:https');
  const get = (url: string) =>
    new Promise<string>((resolve, reject) => {
      request(url, { ca }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
  const ccWsdl = await get(`${ccA.url}?wsdl`);
  assert.match(ccWsdl, new RegExp(`<soap:address location="https://127.0.0.1:${ccA.port}/"/>`));
  const ncWsdl = await get(`${nodes[0]!.url}?wsdl`);
  assert.match(ncWsdl, /ncBroadcastNetworkInfo/);
  const file = path.join(lab.dir, 'cc.wsdl');
  await fs.writeFile(file, ccWsdl);
  const client = await soap.createClientAsync(file);
  const ops = Object.keys((client.describe() as Record<string, Record<string, object>>).EucalyptusCC!.EucalyptusCCPort!);
  assert.deepEqual(ops.sort(), ['BroadcastNetworkInfo', 'DescribeNetworkStatus']);
});

void freePort;
void ({} as Daemon);
