/**
 * SigV4 verification (src/cloud-controller/ec2/sigv4.ts) against known
 * vectors: cases of the AWS Signature Version 4 test suite (service
 * `service`, region us-east-1, 2015-08-30T12:36:00Z), a request captured
 * from /usr/bin/aws 2.9.19 against a loopback listener, and round trips
 * through the test signer (test/helpers/sigv4-client.ts, written apart).
 * Then every refusal, with its EC2 code.
 */
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { canonicalQuery, canonicalRequest, parseAmzDate, readSigV4Head, verifySigV4, type SigV4Head } from '../../../src/cloud-controller/ec2/sigv4.ts';
import { decodeForm } from '../../../src/cloud-controller/ec2/query.ts';
import { signEc2 } from '../../helpers/sigv4-client.ts';

const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SUITE_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);
const SUITE_SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

function suiteHeaders(signedHeaders: string, signature: string, extra: readonly string[] = []): string[] {
  return ['Host', 'example.amazonaws.com', 'X-Amz-Date', '20150830T123600Z', ...extra, 'Authorization', `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=${signedHeaders}, Signature=${signature}`];
}

function head(input: { method?: string; path?: string; rawHeaders: string[]; now?: number; service?: string; skew?: number }): SigV4Head {
  const h = readSigV4Head({ method: input.method ?? 'GET', path: input.path ?? '/', rawHeaders: input.rawHeaders, now: input.now ?? SUITE_TIME, skewSeconds: input.skew ?? 300, service: input.service ?? 'service' });
  assert.ok(h.ok, `head refused: ${JSON.stringify(h)}`);
  return h;
}

function queryOf(text: string) {
  const d = decodeForm(text);
  assert.ok(d.ok);
  return d.pairs;
}

// name, method, path, query, extra headers, signed headers, body, signature (AWS SigV4 test suite).
const SUITE: readonly { name: string; method: string; query: string; extra?: string[]; signed: string; body?: string; signature: string }[] = [
  { name: 'get-vanilla', method: 'GET', query: '', signed: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'post-vanilla', method: 'POST', query: '', signed: 'host;x-amz-date', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  { name: 'post-vanilla-query', method: 'POST', query: 'Param1=value1', signed: 'host;x-amz-date', signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11' },
  { name: 'get-vanilla-query-order-key-case (sorted)', method: 'GET', query: 'Param2=value2&Param1=value1', signed: 'host;x-amz-date', signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  {
    name: 'get-vanilla-query-unreserved',
    method: 'GET',
    query: '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signed: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  { name: 'get-vanilla-query-order-encoded', method: 'GET', query: 'Param-3=Value3&Param=Value2&%E1%88%B4=Value1', signed: 'host;x-amz-date', signature: '371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac' },
  { name: 'get-vanilla-utf8-query', method: 'GET', query: '%E1%88%B4=bar', signed: 'host;x-amz-date', signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04' },
  { name: 'get-header-value-trim', method: 'GET', query: '', extra: ['My-Header1', ' value1', 'My-Header2', ' "a   b   c"'], signed: 'host;my-header1;my-header2;x-amz-date', signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736' },
  { name: 'post-header-key-case', method: 'POST', query: '', extra: ['MY-HEADER1', 'value1'], signed: 'host;my-header1;x-amz-date', signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c' },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    query: '',
    extra: ['Content-Type', 'application/x-www-form-urlencoded'],
    signed: 'content-type;host;x-amz-date',
    body: 'Param1=value1',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

for (const c of SUITE) {
  test(`AWS SigV4 test suite: ${c.name}`, () => {
    const h = head({ method: c.method, rawHeaders: suiteHeaders(c.signed, c.signature, c.extra) });
    const verified = verifySigV4(h, queryOf(c.query), Buffer.from(c.body ?? ''), SUITE_SECRET);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    // The same request with one bit of the signature flipped is refused.
    const flipped = c.signature.slice(0, -1) + (c.signature.endsWith('0') ? '1' : '0');
    const bad = verifySigV4(head({ method: c.method, rawHeaders: suiteHeaders(c.signed, flipped, c.extra) }), queryOf(c.query), Buffer.from(c.body ?? ''), SUITE_SECRET);
    assert.deepEqual([bad.ok, !bad.ok && bad.code], [false, 'SignatureDoesNotMatch']);
  });
}

test('the suite\'s canonical request for post-x-www-form-urlencoded is built exactly', () => {
  const h = head({ method: 'POST', rawHeaders: suiteHeaders('content-type;host;x-amz-date', '0'.repeat(64), ['Content-Type', 'application/x-www-form-urlencoded']) });
  const canonical = canonicalRequest({ method: h.method, path: h.path, query: [], signedHeaders: h.signedHeaders, headers: h.headers, payloadHash: '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e' });
  assert.equal(canonical, 'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e');
});

test('canonical query: RFC 3986 encoding, sorted by name then value', () => {
  assert.equal(canonicalQuery([['b', 'x y'], ['a', '2'], ['a', '1'], ['c', '*!\'()'], ['é', '/+=']]), '%C3%A9=%2F%2B%3D&a=1&a=2&b=x%20y&c=%2A%21%27%28%29');
});

// Captured from /usr/bin/aws 2.9.19 (awscli's own signer) against a loopback listener, secret below.
const CLI_CAPTURE = {
  rawHeaders: [
    'Host', '127.0.0.1:41269',
    'Accept-Encoding', 'identity',
    'Content-Type', 'application/x-www-form-urlencoded; charset=utf-8',
    'User-Agent', 'aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v1272 source/x86_64.debian.12 prompt/off command/ec2.describe-security-groups',
    'X-Amz-Date', '20261204T234727Z',
    'Authorization', 'AWS4-HMAC-SHA256 Credential=AKIEXAMPLEEXAMPLE234/20261204/eucalyptus/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=82c073ccaa411acefdf9330da572a21e85791852a7d64c498049bdeab94ffd0c',
    'Content-Length', '64',
  ],
  path: '/services/compute',
  body: 'Action=DescribeSecurityGroups&Version=2016-11-15&GroupName.1=a+b',
  secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  time: Date.UTC(2026, 11, 4, 23, 47, 27),
};

test('a request captured from /usr/bin/aws verifies (service ec2, region eucalyptus, /services/compute)', () => {
  const h = head({ method: 'POST', path: CLI_CAPTURE.path, rawHeaders: CLI_CAPTURE.rawHeaders, now: CLI_CAPTURE.time + 4 * 60_000, service: 'ec2' });
  assert.deepEqual([h.accessKeyId, h.region, h.service, h.scopeDate], ['AKIEXAMPLEEXAMPLE234', 'eucalyptus', 'ec2', '20261204']);
  assert.equal(verifySigV4(h, [], Buffer.from(CLI_CAPTURE.body), CLI_CAPTURE.secret).ok, true);
  // One byte of the body changed (GroupName a b -> a c), the path, or the secret: refused.
  const refused = [
    verifySigV4(h, [], Buffer.from(CLI_CAPTURE.body.replace('a+b', 'a+c')), CLI_CAPTURE.secret),
    verifySigV4({ ...h, path: '/' }, [], Buffer.from(CLI_CAPTURE.body), CLI_CAPTURE.secret),
    verifySigV4(h, [], Buffer.from(CLI_CAPTURE.body), CLI_CAPTURE.secret.replace('w', 'W')),
    verifySigV4(h, [['Extra', '1']], Buffer.from(CLI_CAPTURE.body), CLI_CAPTURE.secret),
  ];
  assert.deepEqual(refused.map((r) => !r.ok && r.code), ['SignatureDoesNotMatch', 'SignatureDoesNotMatch', 'SignatureDoesNotMatch', 'SignatureDoesNotMatch']);
  // Replayed 6 minutes later (outside the 5-minute window): RequestExpired before any key lookup.
  const late = readSigV4Head({ method: 'POST', path: CLI_CAPTURE.path, rawHeaders: CLI_CAPTURE.rawHeaders, now: CLI_CAPTURE.time + 6 * 60_000, skewSeconds: 300, service: 'ec2' });
  assert.deepEqual([late.ok, !late.ok && late.code], [false, 'RequestExpired']);
});

test('round trip with the test signer: POST and GET, odd values, both paths', () => {
  const creds = { accessKeyId: 'AKIEAAAABBBBCCCCDDDD', secretAccessKey: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' };
  const params = [['Action', 'DescribeSecurityGroups'], ['Version', '2016-11-15'], ['GroupName.1', 'a b+c/d~*é&=%'], ['Filter.1.Value.1', '']] as const;
  for (const method of ['POST', 'GET'] as const) {
    for (const endpoint of ['http://127.0.0.1:8788', 'https://[::1]:8788/services/compute']) {
      const time = Date.UTC(2026, 0, 2, 3, 4, 5);
      const signed = signEc2({ endpoint, credentials: creds, params, method, time, region: 'zone-1' });
      const rawHeaders = Object.entries(signed.headers).flat();
      const q = signed.target.indexOf('?');
      const h = head({ method, path: q < 0 ? signed.target : signed.target.slice(0, q), rawHeaders, now: time, service: 'ec2' });
      const query = q < 0 ? [] : queryOf(signed.target.slice(q + 1));
      const verified = verifySigV4(h, query, signed.body, creds.secretAccessKey);
      assert.ok(verified.ok, `${method} ${endpoint}`);
      assert.equal(verified.canonicalRequest, signed.canonicalRequest);
      assert.equal(h.region, 'zone-1');
    }
  }
});

test('the date header is used when there is no x-amz-date (it must then be signed)', () => {
  const creds = { accessKeyId: 'AKIEAAAABBBBCCCCDDDD', secretAccessKey: 'x'.repeat(40) };
  const time = Date.UTC(2026, 0, 2, 3, 4, 5);
  const signed = signEc2({ endpoint: 'http://127.0.0.1:1', credentials: creds, params: [['Action', 'X']], time, headers: { Date: new Date(time).toUTCString() }, unsigned: ['x-amz-date'] });
  // Drop x-amz-date from what is sent; the signer signed content-type;date;host with the basic-format time.
  const rawHeaders = Object.entries(signed.headers).filter(([k]) => k !== 'X-Amz-Date').flat();
  const h = head({ method: 'POST', rawHeaders, now: time, service: 'ec2' });
  assert.equal(h.amzDate, '20260102T030405Z');
  assert.equal(verifySigV4(h, [], signed.body, creds.secretAccessKey).ok, true);
});

test('x-amz-content-sha256: honoured when signed and equal to the body\'s hash, refused otherwise', () => {
  const creds = { accessKeyId: 'AKIEAAAABBBBCCCCDDDD', secretAccessKey: 'x'.repeat(40) };
  const time = Date.UTC(2026, 0, 2, 3, 4, 5);
  const body = 'Action=X&Version=2016-11-15';
  const good = signEc2({ endpoint: 'http://h:1', credentials: creds, params: [['Action', 'X'], ['Version', '2016-11-15']], time, headers: { 'X-Amz-Content-Sha256': '2f0b6a0b2e4c9d86d6a8c4ac2bd3cd1a1f8a4a2a68e3b1a8d1f5f3c1e0f0a0b0' } });
  // The declared hash is not the body's: refused even though the signature covers it.
  const h = head({ method: 'POST', rawHeaders: Object.entries(good.headers).flat(), now: time, service: 'ec2' });
  const r = verifySigV4(h, [], Buffer.from(body), creds.secretAccessKey);
  assert.deepEqual([r.ok, !r.ok && r.code], [false, 'SignatureDoesNotMatch']);
  const real = signEc2({ endpoint: 'http://h:1', credentials: creds, params: [['Action', 'X'], ['Version', '2016-11-15']], time, headers: { 'X-Amz-Content-Sha256': createHash('sha256').update(body).digest('hex') } });
  const h2 = head({ method: 'POST', rawHeaders: Object.entries(real.headers).flat(), now: time, service: 'ec2' });
  assert.equal(verifySigV4(h2, [], Buffer.from(body), creds.secretAccessKey).ok, true);
  assert.equal(verifySigV4(h2, [], Buffer.from(body + 'x'), creds.secretAccessKey).ok, false);
});

test('refusals of the head, each with its EC2 code', () => {
  const sig = 'a'.repeat(64);
  const auth = (credential: string, signed = 'host;x-amz-date', signature = sig) => `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signed}, Signature=${signature}`;
  const base = ['Host', 'h', 'X-Amz-Date', '20150830T123600Z'];
  const cases: readonly [string, string[], string][] = [
    ['no Authorization', base, 'MissingAuthenticationToken'],
    ['SigV2 header', [...base, 'Authorization', 'AWS AKID:abc'], 'IncompleteSignature'],
    ['no Signature field', [...base, 'Authorization', `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host;x-amz-date`], 'IncompleteSignature'],
    ['unknown field', [...base, 'Authorization', `${auth(SUITE_SCOPE)}, Extra=1`], 'IncompleteSignature'],
    ['two Authorization headers', [...base, 'Authorization', auth(SUITE_SCOPE), 'Authorization', auth(SUITE_SCOPE)], 'IncompleteSignature'],
    ['short credential', [...base, 'Authorization', auth('AKIDEXAMPLE/20150830/us-east-1/service')], 'IncompleteSignature'],
    ['wrong service', [...base, 'Authorization', auth('AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request')], 'IncompleteSignature'],
    ['wrong terminator', [...base, 'Authorization', auth('AKIDEXAMPLE/20150830/us-east-1/service/aws4_reqest')], 'IncompleteSignature'],
    ['bad region', [...base, 'Authorization', auth('AKIDEXAMPLE/20150830/us east/service/aws4_request')], 'IncompleteSignature'],
    ['host not signed', [...base, 'Authorization', auth(SUITE_SCOPE, 'x-amz-date')], 'IncompleteSignature'],
    ['x-amz-date not signed', [...base, 'Authorization', auth(SUITE_SCOPE, 'host')], 'IncompleteSignature'],
    ['signed header absent', [...base, 'Authorization', auth(SUITE_SCOPE, 'content-type;host;x-amz-date')], 'IncompleteSignature'],
    ['uppercase signed header', [...base, 'Authorization', auth(SUITE_SCOPE, 'Host;x-amz-date')], 'IncompleteSignature'],
    ['short signature', [...base, 'Authorization', auth(SUITE_SCOPE, 'host;x-amz-date', 'abc')], 'IncompleteSignature'],
    ['no date at all', ['Host', 'h', 'Authorization', auth(SUITE_SCOPE)], 'IncompleteSignature'],
    ['malformed x-amz-date', ['Host', 'h', 'X-Amz-Date', '2015-08-30T12:36:00Z', 'Authorization', auth(SUITE_SCOPE)], 'IncompleteSignature'],
    ['impossible x-amz-date', ['Host', 'h', 'X-Amz-Date', '20150230T123600Z', 'Authorization', auth(SUITE_SCOPE)], 'IncompleteSignature'],
    ['5 min + 1 s old', ['Host', 'h', 'X-Amz-Date', '20150830T123059Z', 'Authorization', auth(SUITE_SCOPE)], 'RequestExpired'],
    ['5 min + 1 s ahead', ['Host', 'h', 'X-Amz-Date', '20150830T124101Z', 'Authorization', auth(SUITE_SCOPE)], 'RequestExpired'],
    ['scope date is another day', [...base, 'Authorization', auth('AKIDEXAMPLE/20150831/us-east-1/service/aws4_request')], 'SignatureDoesNotMatch'],
  ];
  for (const [name, rawHeaders, code] of cases) {
    const r = readSigV4Head({ method: 'GET', path: '/', rawHeaders, now: SUITE_TIME, skewSeconds: 300, service: 'service' });
    assert.deepEqual([name, r.ok, !r.ok && r.code], [name, false, code]);
  }
  // The window's edges are inside.
  for (const edge of ['20150830T123100Z', '20150830T124100Z']) {
    assert.equal(readSigV4Head({ method: 'GET', path: '/', rawHeaders: ['Host', 'h', 'X-Amz-Date', edge, 'Authorization', auth(SUITE_SCOPE.replace('20150830', edge.slice(0, 8)))], now: SUITE_TIME, skewSeconds: 300, service: 'service' }).ok, true, edge);
  }
});

test('parseAmzDate accepts only real times', () => {
  assert.equal(parseAmzDate('20150830T123600Z'), SUITE_TIME);
  for (const bad of ['20150830T123600', '20151330T123600Z', '20150830T243600Z', '20150830T126000Z', ' 20150830T123600Z']) assert.equal(parseAmzDate(bad), undefined, bad);
});
