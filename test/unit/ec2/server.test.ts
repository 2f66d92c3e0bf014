/**
 * The EC2 endpoint's server (src/cloud-controller/ec2/server.ts) with a fake
 * CloudState (keys, default groups) and a fake action: every check in the
 * order the module header gives, the answers' shape and status, the log
 * line, the rate limit on an injected clock, and the body limits.
 * The real clients against a real CLC: test/integration/ec2-auth.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import winston from 'winston';
import { UserError } from '../../../src/shared/errors.ts';
import type { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import type { Ec2Action, Ec2Request } from '../../../src/cloud-controller/ec2/contract.ts';
import { startEc2Server, type Ec2Server, type Ec2ServerOptions } from '../../../src/cloud-controller/ec2/server.ts';
import { ec2Call, ec2ErrorOf, sendRaw, signEc2, type SignOptions } from '../../helpers/sigv4-client.ts';

const KEY = { accessKeyId: 'AKIEAAAAAAAAAAAAAAAA', secretAccessKey: 'tenant-secret-tenant-secret-tenant-secre' };
const ADMIN_KEY = { accessKeyId: 'AKIEBBBBBBBBBBBBBBBB', secretAccessKey: 'admin-secret-admin-secret-admin-secret-x' };
const ACCOUNTS: Record<string, { accountId: string; secret: string }> = {
  [KEY.accessKeyId]: { accountId: '123456789012', secret: KEY.secretAccessKey },
  [ADMIN_KEY.accessKeyId]: { accountId: '000000000001', secret: ADMIN_KEY.secretAccessKey },
};

interface Fake {
  server: Ec2Server;
  seen: Ec2Request[];
  ensured: string[];
  used: string[];
  log: Record<string, unknown>[];
  clock: { now: number };
  endpoint: string;
}

const echo: Ec2Action = {
  name: 'Echo',
  params: ['Text', 'Item.N', 'Deep.N.Value.N'],
  async handle(request) {
    return { text: request.params.get('Text'), items: [...request.params.entries()].map(([k, v]) => ({ name: k, value: v })) };
  },
};

/** Throws what its Kind parameter names. */
const failing: Ec2Action = {
  name: 'Fail',
  params: ['Kind'],
  async handle(request) {
    switch (request.params.get('Kind')) {
      case 'pool':
        throw new UserError('ADDRESS_POOL_EXHAUSTED', 'no free address in the public pool', { status: 409 });
      case 'notfound':
        throw new UserError('InvalidGroup.NotFound', 'The security group \'x\' does not exist', { status: 404 });
      case 'unmapped':
        throw new UserError('NODE_IN_USE', 'node 10.0.0.1 hosts instances', { status: 409 });
      default:
        throw new Error('SQLITE_CORRUPT at /var/lib/edgenet/clc/edgenet.db');
    }
  },
};
const runInstances: Ec2Action = { ...failing, name: 'RunInstances' };

async function withServer(options: Partial<Ec2ServerOptions>, fn: (f: Fake) => Promise<void>): Promise<void> {
  const seen: Ec2Request[] = [];
  const ensured: string[] = [];
  const used: string[] = [];
  const log: Record<string, unknown>[] = [];
  const clock = { now: Date.UTC(2026, 5, 1, 12, 0, 0) };
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, cb) {
      log.push(info);
      cb();
    },
  });
  const state = {
    async accessKeySecret(id: string) {
      return ACCOUNTS[id];
    },
    accessKeyUsed(id: string) {
      used.push(id);
    },
    async ensureDefaultGroup(accountId: string) {
      ensured.push(accountId);
    },
  } as unknown as CloudState;
  const recording: Ec2Action = { ...echo, handle: async (r, d) => (seen.push(r), echo.handle(r, d)) };
  const server = await startEc2Server({
    host: '127.0.0.1',
    port: 0,
    state,
    logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }),
    now: () => clock.now,
    actions: new Map([recording, failing, runInstances].map((a) => [a.name, a])),
    ...options,
  });
  try {
    await fn({ server, seen, ensured, used, log, clock, endpoint: server.url });
  } finally {
    await server.close();
  }
}

const params = (action: string, extra: [string, string][] = []): [string, string][] => [['Action', action], ['Version', '2016-11-15'], ...extra];

function sign(f: Fake, extra: Partial<SignOptions> = {}): SignOptions {
  return { endpoint: f.endpoint, credentials: KEY, params: params('Echo', [['Text', 'hi']]), time: f.clock.now, ...extra };
}

async function errorOf(f: Fake, options: Partial<SignOptions>) {
  const r = await ec2Call(sign(f, options));
  const e = ec2ErrorOf(r.body);
  assert.ok(e, `not an EC2 error document (${r.status}): ${r.body}`);
  return { status: r.status, ...e, headers: r.headers };
}

test('a signed POST: 200, EC2 XML with the request id, params without Action/Version, the caller and region', async () => {
  await withServer({}, async (f) => {
    const r = await ec2Call(sign(f, { params: params('Echo', [['Text', 'a <b> & c'], ['Item.2', 'x'], ['Deep.1.Value.3', 'y']]), region: 'zone-7' }));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/xml;charset=UTF-8');
    const id = /<requestId>([0-9a-f-]{36})<\/requestId>/.exec(r.body)?.[1];
    assert.ok(id, r.body);
    assert.ok(r.body.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<EchoResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${id}</requestId><text>a &lt;b&gt; &amp; c</text>`), r.body);
    const req = f.seen[0]!;
    assert.deepEqual([...req.params.keys()], ['Text', 'Item.2', 'Deep.1.Value.3']);
    assert.deepEqual([req.requestId, req.action, req.version, req.region], [id, 'Echo', '2016-11-15', 'zone-7']);
    assert.deepEqual(req.caller, { accountId: '123456789012', accessKeyId: KEY.accessKeyId, admin: false });
    assert.deepEqual(f.used, [KEY.accessKeyId]);
    const line = f.log.find((l) => l.message === 'ec2 request');
    assert.deepEqual(line && [line.level, line.requestId, line.action, line.account, line.accessKeyId, line.status, typeof line.ms], ['debug', id, 'Echo', '123456789012', KEY.accessKeyId, 200, 'number']);
  });
});

test('GET with a query string, /services/compute (with and without the trailing slash), the admin account', async () => {
  await withServer({}, async (f) => {
    for (const endpoint of [f.endpoint, `${f.endpoint}/services/compute`, `${f.endpoint}/services/compute/`]) {
      const r = await ec2Call(sign(f, { endpoint, method: 'GET', credentials: ADMIN_KEY, params: params('Echo', [['Text', 'é ✓ + &']]) }));
      assert.equal(r.status, 200, `${endpoint}: ${r.body}`);
      assert.match(r.body, /<text>é ✓ \+ &amp;<\/text>/);
    }
    assert.equal(f.seen.every((r) => r.caller.admin && r.caller.accountId === '000000000001'), true);
  });
});

test('the default group is ensured for each request that gets to the action (CloudState remembers), never for refused ones', async () => {
  await withServer({}, async (f) => {
    await errorOf(f, { credentials: { ...KEY, secretAccessKey: 'wrong' } });
    await errorOf(f, { params: params('Nope') });
    assert.deepEqual(f.ensured, []);
    for (let i = 0; i < 3; i++) assert.equal((await ec2Call(sign(f))).status, 200);
    await ec2Call(sign(f, { credentials: ADMIN_KEY }));
    assert.deepEqual(f.ensured, ['123456789012', '123456789012', '123456789012', '000000000001']);
  });
});

test('authentication refusals: EC2 codes, statuses, and the connection closed', async () => {
  await withServer({}, async (f) => {
    const unsigned = await sendRaw({ method: 'POST', url: f.endpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('Action=Echo&Version=2016-11-15') });
    assert.deepEqual([unsigned.status, ec2ErrorOf(unsigned.body)?.code, unsigned.headers.connection], [401, 'MissingAuthenticationToken', 'close']);
    const unknown = await errorOf(f, { credentials: { accessKeyId: 'AKIEZZZZZZZZZZZZZZZZ', secretAccessKey: 'x' } });
    assert.deepEqual([unknown.status, unknown.code, unknown.headers.connection], [401, 'AuthFailure', 'close']);
    const wrong = await errorOf(f, { credentials: { ...KEY, secretAccessKey: `${KEY.secretAccessKey.slice(0, -1)}X` } });
    assert.deepEqual([wrong.status, wrong.code], [403, 'SignatureDoesNotMatch']);
    const service = await errorOf(f, { service: 's3' });
    assert.deepEqual([service.status, service.code], [400, 'IncompleteSignature']);
    const expired = await errorOf(f, { time: f.clock.now - 301_000 });
    assert.deepEqual([expired.status, expired.code], [400, 'RequestExpired']);
    const future = await errorOf(f, { time: f.clock.now + 301_000 });
    assert.deepEqual([future.status, future.code], [400, 'RequestExpired']);
    assert.deepEqual(f.seen, []);
    assert.deepEqual(f.used, []);
    // Refusals are logged at info with the code.
    const refused = f.log.filter((l) => l.message === 'ec2 request refused').map((l) => l.code);
    assert.deepEqual(refused, ['MissingAuthenticationToken', 'AuthFailure', 'SignatureDoesNotMatch', 'IncompleteSignature', 'RequestExpired', 'RequestExpired']);
  });
});

test('a signed request with one byte of its body changed, or replayed after the window, is refused', async () => {
  await withServer({}, async (f) => {
    const signed = signEc2(sign(f, { params: params('Echo', [['Text', 'allocate-1']]) }));
    assert.equal((await sendRaw(signed)).status, 200);
    const tampered = Buffer.from(signed.body);
    tampered[tampered.length - 1] = '2'.charCodeAt(0);
    const t = await sendRaw({ ...signed, body: tampered });
    assert.deepEqual([t.status, ec2ErrorOf(t.body)?.code], [403, 'SignatureDoesNotMatch']);
    // Within the window the same bytes are accepted again (as AWS); 5 min + 1 s later they are not.
    f.clock.now += 299_000;
    assert.equal((await sendRaw(signed)).status, 200);
    f.clock.now += 2_000;
    const late = await sendRaw(signed);
    assert.deepEqual([late.status, ec2ErrorOf(late.body)?.code], [400, 'RequestExpired']);
    assert.deepEqual(f.seen.map((r) => r.params.get('Text')), ['allocate-1', 'allocate-1']);
  });
});

test('protocol refusals after authentication: Action, Version, parameters, form', async () => {
  await withServer({}, async (f) => {
    const cases: [Partial<SignOptions>, string][] = [
      [{ params: [['Version', '2016-11-15']] }, 'MissingParameter'],
      [{ params: params('DescribeNothing') }, 'InvalidAction'],
      [{ params: [['Action', 'Echo']] }, 'MissingParameter'],
      [{ params: [['Action', 'Echo'], ['Version', '2014-06-15']] }, 'InvalidParameterValue'],
      [{ params: params('Echo', [['Bogus', '1']]) }, 'UnknownParameter'],
      [{ params: params('Echo', [['Item.0', '1']]) }, 'UnknownParameter'],
      [{ params: params('Echo', [['text', '1']]) }, 'UnknownParameter'],
      [{ params: params('Echo', [['Text', '1'], ['Text', '2']]) }, 'MalformedQueryString'],
      [{ params: params('Echo'), headers: { 'Content-Type': 'application/json' } }, 'MalformedQueryString'],
    ];
    for (const [options, code] of cases) {
      const e = await errorOf(f, options);
      assert.deepEqual([e.status, e.code], [400, code], JSON.stringify(options));
    }
    // A POST with parameters in the query string too (signed that way): parameters come from one place.
    const mixed = await errorOf(f, { query: [['Text', 'from-query']] });
    assert.deepEqual([mixed.status, mixed.code], [400, 'MalformedQueryString']);
    assert.deepEqual(f.seen, []);
  });
});

test('method and path refusals', async () => {
  await withServer({}, async (f) => {
    const put = await sendRaw({ method: 'PUT' as 'POST', url: f.endpoint, headers: {}, body: Buffer.alloc(0) });
    assert.deepEqual([put.status, ec2ErrorOf(put.body)?.code], [405, 'InvalidAction']);
    const other = await ec2Call(sign(f, { endpoint: `${f.endpoint}/services/Eucalyptus` }));
    assert.deepEqual([other.status, ec2ErrorOf(other.body)?.code], [404, 'InvalidAction']);
  });
});

test('errors of actions: the table, per action, EC2 codes at 400, internals never shown', async () => {
  await withServer({}, async (f) => {
    const pool = await errorOf(f, { params: params('Fail', [['Kind', 'pool']]) });
    assert.deepEqual([pool.status, pool.code], [400, 'AddressLimitExceeded']);
    assert.match(pool.message, /\(ADDRESS_POOL_EXHAUSTED\)/);
    const run = await errorOf(f, { params: params('RunInstances', [['Kind', 'pool']]) });
    assert.deepEqual([run.status, run.code], [400, 'InsufficientInstanceCapacity']);
    const nf = await errorOf(f, { params: params('Fail', [['Kind', 'notfound']]) });
    assert.deepEqual([nf.status, nf.code, nf.message], [400, 'InvalidGroup.NotFound', 'The security group \'x\' does not exist']);
    const unmapped = await errorOf(f, { params: params('Fail', [['Kind', 'unmapped']]) });
    assert.deepEqual([unmapped.status, unmapped.code], [400, 'InvalidParameterValue']);
    assert.match(unmapped.message, /\(NODE_IN_USE\)/);
    const bug = await errorOf(f, { params: params('Fail', [['Kind', 'bug']]) });
    assert.deepEqual([bug.status, bug.code], [500, 'InternalError']);
    assert.doesNotMatch(bug.message, /SQLITE|edgenet\.db/);
    const line = f.log.find((l) => l.message === 'ec2 request failed');
    assert.ok(line && line.level === 'error' && String(line.stack).includes('SQLITE_CORRUPT') && line.requestId === bug.requestId, JSON.stringify(line));
  });
});

test('rate limit per access key on the injected clock: bursts, refill, only verified requests count', async () => {
  await withServer({ rateLimit: 2, rateBurst: 3 }, async (f) => {
    // Wrong-secret requests naming the key take no token.
    for (let i = 0; i < 5; i++) assert.equal((await errorOf(f, { credentials: { ...KEY, secretAccessKey: 'nope' } })).code, 'SignatureDoesNotMatch');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await ec2Call(sign(f))).status);
    assert.deepEqual(statuses, [200, 200, 200, 503]);
    const limited = await errorOf(f, {});
    assert.deepEqual([limited.status, limited.code], [503, 'RequestLimitExceeded']);
    // Another key has its own bucket.
    assert.equal((await ec2Call(sign(f, { credentials: ADMIN_KEY }))).status, 200);
    // Half a second later one token (rate 2/s) is back, and only one.
    f.clock.now += 500;
    assert.equal((await ec2Call(sign(f))).status, 200);
    assert.equal((await ec2Call(sign(f))).status, 503);
  });
});

test('EC2_RATE_LIMIT=0 means no limit', async () => {
  await withServer({ rateLimit: 0, rateBurst: 1 }, async (f) => {
    for (let i = 0; i < 5; i++) assert.equal((await ec2Call(sign(f))).status, 200);
  });
});

test('body limit: a declared Content-Length over it is refused before reading; a chunked body is counted', async () => {
  await withServer({ maxBodyBytes: 2048 }, async (f) => {
    const big = await errorOf(f, { params: params('Echo', [['Text', 'x'.repeat(3000)]]) });
    assert.deepEqual([big.status, big.code, big.headers.connection], [413, 'RequestEntityTooLarge', 'close']);
    // Chunked (no Content-Length), 1 MiB streamed at a 2 KiB limit: refused, and far from all of it read.
    const port = f.server.port;
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('error', () => resolve(text));
      socket.on('close', () => resolve(text));
      const signed = signEc2(sign(f));
      const headers = Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`POST / HTTP/1.1\r\n${headers}Transfer-Encoding: chunked\r\n\r\n`);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 1024 * 1024 && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.equal(ec2ErrorOf(answer.slice(answer.indexOf('<?xml')))?.code, 'RequestEntityTooLarge');
    const closed = f.log.find((l) => l.message === 'connection closed after refusal' && l.code === 'RequestEntityTooLarge' && Number(l.bytesRead) > 3000);
    assert.ok(closed, 'the streamed refusal is logged with the bytes read');
    assert.ok(Number(closed.bytesRead) < 256 * 1024, `read ${String(closed.bytesRead)} bytes of a refused body`);
  });
});
