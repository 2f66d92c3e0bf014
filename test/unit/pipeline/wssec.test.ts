/**
 * Issue 13 item 3: the opt-in Eucalyptus transport. A real CC and a real NC on
 * loopback, each with its Eucalyptus listener (plain HTTP, WS-Security X.509)
 * enabled, receive broadcasts signed by the `soap` package's WS-Security
 * client (`WSSecurityCert`, an implementation we did not write) with a
 * throwaway key pair. Shape of what Eucalyptus sends, from
 * ../shared/reference/eucalyptus-edge.md §6.1 (Java `WsSecHandler` /
 * Rampart/C): an X.509 BinarySecurityToken, an RSA-SHA1 signature over the
 * Body and a Timestamp, posted over plain HTTP to /axis2/services/EucalyptusCC
 * (…/EucalyptusNC), body elements in http://eucalyptus.ucsb.edu/ (qualified).
 *
 * A correctly signed broadcast reaches the CC's store and the NC's shared
 * file; unsigned, tampered, wrongly signed, expired, replayed and wrapped
 * ones get a SOAP Fault with their WSSEC_* code, and the store and the file
 * stay byte-identical.
 */
import { test, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import soap from 'soap';
import { initCa, issueCert } from '../../../src/shared/tls/certs.ts';
import { createExec } from '../../../src/shared/exec.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { responseElement, SoapFault } from '../../../src/shared/soap/envelope.ts';
import { startCc, resolveCcConfig, checkCcConfig, type CcConfig } from '../../../src/cluster-controller/main.ts';
import { startNc, resolveNcConfig, type NcConfig } from '../../../src/node-controller/main.ts';

const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

interface KeyPair {
  readonly key: string;
  readonly cert: string;
  readonly certFile: string;
}

let dir = '';
/** The cloud's credentials the CC and NC are configured to trust. */
let euca: KeyPair;
/** Someone else's key pair. */
let rogue: KeyPair;
let cc: { port: number; eucalyptusPort: number | undefined; stop(): Promise<void> };
let nc: { port: number; eucalyptusPort: number | undefined; stop(): Promise<void> };
let ccState = '';
let ncFile = '';

async function keyPair(name: string): Promise<KeyPair> {
  const key = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  await createExec().run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`]);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'edgenet-wssec-'));
  // edgenet's own mTLS material: the CC and NC need it for their main listeners.
  const exec = createExec();
  await initCa(exec, dir);
  for (const role of ['cc', 'nc'] as const) await issueCert(exec, { dir, name: `${role}1`, role, ips: ['127.0.0.1'], dnsNames: [] });
  euca = await keyPair('euca-cluster');
  rogue = await keyPair('rogue');
  const eucalyptus = { listen: { host: '127.0.0.1', port: 0 }, certFile: euca.certFile, clockSkewMs: 60_000 };
  const common = { listen: { host: '127.0.0.1', port: 0 }, metricsListen: undefined, certsDir: dir, maxRequestBytes: 1024 * 1024, logLevel: 'error', logFormat: 'json', eucalyptus } as const;
  ncFile = path.join(dir, 'global_network_info.xml');
  nc = await startNc({ ...common, certName: 'nc1', gniFile: ncFile, statusFile: path.join(dir, 'status.json'), nodeName: '127.0.0.1' } satisfies NcConfig, { logger: nullLogger() });
  ccState = path.join(dir, 'cc');
  cc = await startCc(
    { ...common, certName: 'cc1', stateDir: ccState, nodes: [], fanout: 1, ncTimeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 1000, statusIntervalMs: 60_000, acceptUnsequenced: true } satisfies CcConfig,
    { logger: nullLogger() },
  );
});

after(async () => {
  await cc?.stop();
  await nc?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const gni = (version: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<network-data version="${version}"></network-data>\n`;

/** A Eucalyptus-shaped broadcast envelope (reference §6.1: SOAP 1.1, qualified children), not yet signed. */
function eucaEnvelope(operation: string, version: string): string {
  return (
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:euca="http://eucalyptus.ucsb.edu/">` +
    `<soapenv:Header></soapenv:Header><soapenv:Body><euca:${operation}>` +
    `<euca:correlationId>c-${version}</euca:correlationId><euca:userId>eucalyptus</euca:userId>` +
    `<euca:networkInfo>${Buffer.from(gni(version)).toString('base64')}</euca:networkInfo>` +
    `</euca:${operation}></soapenv:Body></soapenv:Envelope>`
  );
}

interface SignOptions {
  readonly by?: KeyPair;
  /** The certificate put in the BinarySecurityToken (default: the signer's). */
  readonly token?: KeyPair;
  readonly sha256?: boolean;
  readonly excludeReferencesFromSigning?: string[];
  /** Reference transforms (default: exclusive c14n only, as Rampart/C and WSS4J send). */
  readonly transforms?: string[];
  /** Sign as if the clock read this (epoch ms). */
  readonly at?: number;
}

/** Signs with the soap package's WS-Security client, the way Eucalyptus does by default (RSA-SHA1, SHA-1, exc-c14n). */
function sign(xml: string, o: SignOptions = {}): string {
  const by = o.by ?? euca;
  const signer = new soap.WSSecurityCert(by.key, (o.token ?? by).cert, '', {
    signatureAlgorithm: o.sha256 ? RSA_SHA256 : RSA_SHA1,
    digestAlgorithm: o.sha256 ? SHA256 : SHA1,
    signatureTransformations: o.transforms ?? [EXC_C14N],
    excludeReferencesFromSigning: o.excludeReferencesFromSigning ?? [],
  });
  if (o.at === undefined) return signer.postProcess(xml, 'soapenv');
  mock.timers.enable({ apis: ['Date'], now: o.at });
  try {
    return signer.postProcess(xml, 'soapenv');
  } finally {
    mock.timers.reset();
  }
}

async function post(port: number, service: 'EucalyptusCC' | 'EucalyptusNC', body: string): Promise<{ status: number; code: string | undefined; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/axis2/services/${service}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: service }, body });
  const text = await res.text();
  try {
    responseElement(text);
    return { status: res.status, code: undefined, text };
  } catch (err) {
    if (err instanceof SoapFault) return { status: res.status, code: err.code, text };
    throw err;
  }
}

const ccPost = (body: string) => post(cc.eucalyptusPort!, 'EucalyptusCC', body);
const ncPost = (body: string) => post(nc.eucalyptusPort!, 'EucalyptusNC', body);
const ccStored = () => fs.readFile(path.join(ccState, 'network-info.json'), 'utf8').catch(() => '(none)');
const ncHeld = () => fs.readFile(ncFile, 'utf8').catch(() => '(none)');

/** Every refusal below must leave the CC's store and the NC's shared file exactly as they were. */
async function refused(send: () => Promise<{ status: number; code: string | undefined; text: string }>, code: string): Promise<void> {
  const [storeBefore, fileBefore] = [await ccStored(), await ncHeld()];
  const r = await send();
  assert.equal(r.code, code, r.text);
  assert.equal(r.status, 500, r.text);
  assert.equal(await ccStored(), storeBefore, 'the CC store is unchanged');
  assert.equal(await ncHeld(), fileBefore, 'the NC shared file is unchanged');
}

test('the Eucalyptus listeners are separate ports from the mTLS ones', () => {
  assert.ok(cc.eucalyptusPort && cc.eucalyptusPort !== cc.port);
  assert.ok(nc.eucalyptusPort && nc.eucalyptusPort !== nc.port);
});

test('CC: a correctly signed BroadcastNetworkInfo is stored; a second signed one replaces it', async () => {
  const r = await ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'euca-a')));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.code, undefined, r.text);
  assert.match(r.text, /BroadcastNetworkInfoResponse/);
  assert.equal((JSON.parse(await ccStored()) as { version: string }).version, 'euca-a');
  const b = await ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'euca-b'), { sha256: true }));
  assert.equal(b.status, 200, b.text);
  assert.equal((JSON.parse(await ccStored()) as { version: string }).version, 'euca-b', 'RSA-SHA256 is accepted too');
});

test('CC: unsigned, tampered, wrongly signed, uncovered, expired and replayed broadcasts are refused and change nothing', async (t) => {
  const evil = Buffer.from(gni('evil')).toString('base64');
  await t.test('unsigned', () => refused(() => ccPost(eucaEnvelope('BroadcastNetworkInfo', 'evil')), 'WSSEC_UNSIGNED'));
  await t.test('tampered body', () => {
    const signed = sign(eucaEnvelope('BroadcastNetworkInfo', 'c1'));
    const tampered = signed.replace(/<euca:networkInfo>[^<]*</, `<euca:networkInfo>${evil}<`);
    assert.notEqual(tampered, signed);
    return refused(() => ccPost(tampered), 'WSSEC_BAD_SIGNATURE');
  });
  await t.test('tampered timestamp', () => {
    const signed = sign(eucaEnvelope('BroadcastNetworkInfo', 'c2'));
    const tampered = signed.replace(/<Expires>[^<]*</, `<Expires>2099-01-01T00:00:00Z<`);
    assert.notEqual(tampered, signed);
    return refused(() => ccPost(tampered), 'WSSEC_BAD_SIGNATURE');
  });
  await t.test('signed by another key, with its own certificate', () => refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c3'), { by: rogue })), 'WSSEC_UNTRUSTED_CERTIFICATE'));
  await t.test('signed by another key, presenting the trusted certificate', () =>
    refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c4'), { by: rogue, token: euca })), 'WSSEC_BAD_SIGNATURE'));
  await t.test('signature not covering the body', () =>
    refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c5'), { excludeReferencesFromSigning: ['Body'] })), 'WSSEC_BAD_SIGNATURE'));
  await t.test('signature not covering the timestamp', () =>
    refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c6'), { excludeReferencesFromSigning: ['Timestamp'] })), 'WSSEC_BAD_SIGNATURE'));
  await t.test('a transform other than exclusive c14n (the soap package\'s default adds enveloped-signature)', () =>
    refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c9'), { transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N] })), 'WSSEC_BAD_SIGNATURE'));
  await t.test('expired (signed 30 minutes ago; Expires is Created + 10 min)', () =>
    refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c7'), { at: Date.now() - 30 * 60_000 })), 'WSSEC_EXPIRED'));
  await t.test('created an hour in the future', () =>
    refused(() => ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'c8'), { at: Date.now() + 60 * 60_000 })), 'WSSEC_EXPIRED'));
  await t.test('replayed: an older signed document sent again after a newer one', async () => {
    const older = sign(eucaEnvelope('BroadcastNetworkInfo', 'r-old'));
    assert.equal((await ccPost(older)).status, 200);
    assert.equal((await ccPost(sign(eucaEnvelope('BroadcastNetworkInfo', 'r-new')))).status, 200);
    await refused(() => ccPost(older), 'WSSEC_REPLAYED');
    assert.equal((JSON.parse(await ccStored()) as { version: string }).version, 'r-new');
  });
  await t.test('signature wrapping: the signed Body moved into a header, an unsigned Body in its place', () => {
    const signed = sign(eucaEnvelope('BroadcastNetworkInfo', 'w1'));
    const body = /<soapenv:Body[^>]*>[\s\S]*<\/soapenv:Body>/.exec(signed)![0];
    const evilBody = `<soapenv:Body><euca:BroadcastNetworkInfo><euca:networkInfo>${evil}</euca:networkInfo></euca:BroadcastNetworkInfo></soapenv:Body>`;
    const wrapped = signed.replace(body, evilBody).replace('<soapenv:Header>', `<soapenv:Header><Wrapper>${body}</Wrapper>`);
    return refused(() => ccPost(wrapped), 'WSSEC_BAD_SIGNATURE');
  });
  await t.test('signature wrapping: a second element with the Body\'s Id', () => {
    const signed = sign(eucaEnvelope('BroadcastNetworkInfo', 'w2'));
    const id = /<soapenv:Body Id="([^"]+)"/.exec(signed)![1];
    const wrapped = signed.replace('<soapenv:Header>', `<soapenv:Header><Wrapper Id="${id}"/>`);
    return refused(() => ccPost(wrapped), 'WSSEC_BAD_SIGNATURE');
  });
});

test('NC: a correctly signed ncBroadcastNetworkInfo is written to the shared file; tampered, unsigned and replayed are refused', async () => {
  const signed = sign(eucaEnvelope('ncBroadcastNetworkInfo', 'nc-a'));
  const r = await ncPost(signed);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /ncBroadcastNetworkInfoResponse/);
  assert.equal(await ncHeld(), gni('nc-a'));
  await refused(() => ncPost(signed), 'WSSEC_REPLAYED');
  await refused(() => ncPost(eucaEnvelope('ncBroadcastNetworkInfo', 'nc-evil')), 'WSSEC_UNSIGNED');
  const tampered = sign(eucaEnvelope('ncBroadcastNetworkInfo', 'nc-b')).replace(/<euca:correlationId>[^<]*</, '<euca:correlationId>x<');
  await refused(() => ncPost(tampered), 'WSSEC_BAD_SIGNATURE');
  await refused(() => ncPost(sign(eucaEnvelope('ncBroadcastNetworkInfo', 'nc-c'), { by: rogue })), 'WSSEC_UNTRUSTED_CERTIFICATE');
  assert.equal(await ncHeld(), gni('nc-a'));
});

test('the Eucalyptus listener serves only the broadcast: a signed status request is UNKNOWN_OPERATION', async () => {
  const xml = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:euca="http://eucalyptus.ucsb.edu/"><soapenv:Header></soapenv:Header><soapenv:Body><euca:DescribeNetworkStatus/></soapenv:Body></soapenv:Envelope>`;
  const r = await ccPost(sign(xml));
  assert.equal(r.code, 'UNKNOWN_OPERATION', r.text);
});

test('config: off by default; EUCA_WSSEC_LISTEN needs EUCA_WSSEC_CERT; --check-config checks the certificate file', () => {
  assert.equal(resolveCcConfig({}, {}).config.eucalyptus, undefined);
  assert.equal(resolveNcConfig({}, {}).config.eucalyptus, undefined);
  const noCert = resolveCcConfig({}, { EDGENET_CC_EUCA_WSSEC_LISTEN: '127.0.0.1:8774' });
  assert.equal(noCert.config.eucalyptus, undefined);
  assert.ok(noCert.diagnostics.some((d) => d.path === 'EUCA_WSSEC_CERT' && d.severity === 'error'), JSON.stringify(noCert.diagnostics));
  const on = resolveNcConfig({}, { EDGENET_NC_EUCA_WSSEC_LISTEN: '0.0.0.0:8775', EDGENET_NC_EUCA_WSSEC_CERT: '/nonexistent/node-cert.pem', EDGENET_NC_EUCA_WSSEC_CLOCK_SKEW: '30' });
  assert.deepEqual(on.config.eucalyptus, { listen: { host: '0.0.0.0', port: 8775 }, certFile: '/nonexistent/node-cert.pem', clockSkewMs: 30_000 });
  assert.ok(!on.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(on.diagnostics));
  const cc = resolveCcConfig({}, { EDGENET_CC_EUCA_WSSEC_LISTEN: '127.0.0.1:8774', EDGENET_CC_EUCA_WSSEC_CERT: '/nonexistent/cluster-cert.pem', EDGENET_CC_CERTS_DIR: dir, EDGENET_CC_CERT_NAME: 'cc1' });
  const checked = checkCcConfig(cc.config);
  assert.ok(checked.some((d) => d.path === 'EUCA_WSSEC_CERT' && d.code === 'TLS_CERT_MISSING'), JSON.stringify(checked));
});
