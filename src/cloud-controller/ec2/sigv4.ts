/**
 * AWS Signature Version 4, verified by hand with node:crypto (issue 15;
 * platform notes §6): what the AWS CLI, boto3 and the JS SDK send to the EC2
 * endpoint, checked the way AWS checks it.
 *
 * Two steps, so the server can refuse before it reads a body:
 * 1. `readSigV4Head` (pure: the request head and the time): the
 *    Authorization header parses (`AWS4-HMAC-SHA256 Credential=AKID/DATE/
 *    REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=<64 hex>`), the
 *    scope's service is the expected one, `host` and the date header are
 *    signed, every signed header is present, the date is within the window
 *    and the scope's date is the date's day. The region is any name; it is
 *    returned for the action (DescribeAvailabilityZones answers with it).
 * 2. `verifySigV4` (pure: the head, the decoded query, the body bytes and the
 *    key's secret): the canonical request (method; the path as sent; the
 *    query sorted and RFC 3986 encoded; the signed headers in the order
 *    listed, values trimmed with inner runs of spaces collapsed and repeated
 *    headers joined with `,`; the list; hex SHA-256 of the body as received,
 *    or the signed `x-amz-content-sha256`, which must then equal it), the
 *    string to sign, the HMAC chain, and a constant-time comparison.
 *
 * Every refusal is a tagged result with an EC2 code; nothing throws. What is
 * not supported: presigned (query-string) signatures, SigV2, streaming or
 * unsigned payloads. Within the window a captured request can be replayed,
 * as with AWS.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export interface SigV4Failure {
  readonly ok: false;
  readonly code: 'MissingAuthenticationToken' | 'IncompleteSignature' | 'RequestExpired' | 'SignatureDoesNotMatch';
  readonly message: string;
}

/** The checked head of a signed request. */
export interface SigV4Head {
  readonly ok: true;
  readonly accessKeyId: string;
  /** `20150830` (the scope's date). */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  /** `20150830/us-east-1/ec2/aws4_request`. */
  readonly scope: string;
  /** The request's time in ISO 8601 basic form, as it enters the string to sign. */
  readonly amzDate: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** Canonical header values by lowercase name (repeated headers joined with `,`). */
  readonly headers: ReadonlyMap<string, string>;
  readonly method: string;
  readonly path: string;
}

export interface SigV4HeadInput {
  readonly method: string;
  /** The request path exactly as sent, without the query. */
  readonly path: string;
  /** Node's `req.rawHeaders`: name, value, name, value … in the order received. */
  readonly rawHeaders: readonly string[];
  /** The clock, ms since the epoch. */
  readonly now: number;
  /** The window either side of `now`, in seconds. */
  readonly skewSeconds: number;
  /** The scope's service: `ec2` on the endpoint (the AWS suite's vectors use `service`). */
  readonly service: string;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const REGION = /^[A-Za-z0-9._-]{1,64}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;

const fail = (code: SigV4Failure['code'], message: string): SigV4Failure => ({ ok: false, code, message });

/** Header values by lowercase name, in the order received (Node's `headers` drops repeated `host`, `content-type`, …). */
function headerValues(rawHeaders: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const list = out.get(name);
    if (list) list.push(rawHeaders[i + 1]!);
    else out.set(name, [rawHeaders[i + 1]!]);
  }
  return out;
}

/** SigV4's header value: trimmed, inner runs of whitespace one space; repeated headers joined with `,`. */
function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

/** `20150830T123600Z` as ms since the epoch, or undefined when it is not a real time in that form. */
export function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return ms;
}

/** ms since the epoch as `20150830T123600Z`. */
function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

interface ParsedAuthorization {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization | SigV4Failure {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    return fail('IncompleteSignature', `the Authorization header's algorithm must be ${SIGV4_ALGORITHM} (AWS Signature Version 4), not ${JSON.stringify(algorithm.slice(0, 40))}`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    if (eq <= 0) return fail('IncompleteSignature', `Authorization header field ${JSON.stringify(item.slice(0, 40))} is not NAME=VALUE`);
    const name = item.slice(0, eq);
    if (fields.has(name)) return fail('IncompleteSignature', `Authorization header field ${name} is given twice`);
    fields.set(name, item.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const missing = [['Credential', credential], ['SignedHeaders', signedHeaders], ['Signature', signature]].filter(([, v]) => v === undefined).map(([n]) => n);
  if (missing.length > 0 || credential === undefined || signedHeaders === undefined || signature === undefined) {
    return fail('IncompleteSignature', `the Authorization header lacks ${missing.join(', ')}`);
  }
  const unknown = [...fields.keys()].filter((k) => k !== 'Credential' && k !== 'SignedHeaders' && k !== 'Signature');
  if (unknown.length > 0) return fail('IncompleteSignature', `the Authorization header has unknown field(s) ${unknown.join(', ')}`);
  return { credential, signedHeaders, signature };
}

/** Step 1: the head of the request (see the module header). */
export function readSigV4Head(input: SigV4HeadInput): SigV4Head | SigV4Failure {
  const raw = headerValues(input.rawHeaders);
  const authorization = raw.get('authorization');
  if (authorization === undefined) return fail('MissingAuthenticationToken', 'the request carries no Authorization header (AWS Signature Version 4 is required; presigned URLs and Signature Version 2 are not supported)');
  if (authorization.length > 1) return fail('IncompleteSignature', 'the Authorization header is given more than once');
  const parsed = parseAuthorization(authorization[0]!.trim());
  if ('ok' in parsed) return parsed;

  const parts = parsed.credential.split('/');
  if (parts.length !== 5) return fail('IncompleteSignature', 'Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request');
  const [accessKeyId, scopeDate, region, service, terminator] = parts as [string, string, string, string, string];
  if (!ACCESS_KEY_ID.test(accessKeyId)) return fail('IncompleteSignature', 'the Credential\'s access key id is empty or not alphanumeric');
  if (!/^\d{8}$/.test(scopeDate)) return fail('IncompleteSignature', `the Credential's date ${JSON.stringify(scopeDate.slice(0, 20))} is not YYYYMMDD`);
  if (!REGION.test(region)) return fail('IncompleteSignature', 'the Credential\'s region must be 1-64 of A-Z, a-z, 0-9, ".", "_", "-"');
  if (service !== input.service) return fail('IncompleteSignature', `the Credential's service must be ${input.service}, not ${JSON.stringify(service.slice(0, 40))}`);
  if (terminator !== 'aws4_request') return fail('IncompleteSignature', 'the Credential must end with aws4_request');

  const signedHeaders = parsed.signedHeaders.split(';');
  if (signedHeaders.some((h) => !HEADER_NAME.test(h))) return fail('IncompleteSignature', 'SignedHeaders must be lowercase header names separated by ";"');
  if (new Set(signedHeaders).size !== signedHeaders.length) return fail('IncompleteSignature', 'SignedHeaders names a header twice');
  if (!SIGNATURE.test(parsed.signature)) return fail('IncompleteSignature', 'Signature must be 64 lowercase hex digits');

  const amzDates = raw.get('x-amz-date');
  let amzDate: string;
  let dateHeader: string;
  if (amzDates !== undefined) {
    if (amzDates.length > 1) return fail('IncompleteSignature', 'x-amz-date is given more than once');
    dateHeader = 'x-amz-date';
    amzDate = amzDates[0]!.trim();
  } else {
    const dates = raw.get('date');
    if (dates === undefined) return fail('IncompleteSignature', 'the request has neither an x-amz-date nor a date header');
    if (dates.length > 1) return fail('IncompleteSignature', 'date is given more than once');
    const ms = Date.parse(dates[0]!);
    if (!Number.isFinite(ms)) return fail('IncompleteSignature', 'the date header is not an HTTP date');
    dateHeader = 'date';
    amzDate = formatAmzDate(ms);
  }
  const time = parseAmzDate(amzDate);
  if (time === undefined) return fail('IncompleteSignature', `x-amz-date ${JSON.stringify(amzDate.slice(0, 40))} is not YYYYMMDDTHHMMSSZ`);
  for (const required of ['host', dateHeader]) {
    if (!signedHeaders.includes(required)) return fail('IncompleteSignature', `SignedHeaders must include ${required}`);
  }
  const headers = new Map<string, string>();
  for (const name of signedHeaders) {
    const values = raw.get(name);
    if (values === undefined) return fail('IncompleteSignature', `the signed header ${name} is not in the request`);
    headers.set(name, canonicalHeaderValue(values));
  }

  const skewMs = input.skewSeconds * 1000;
  if (time < input.now - skewMs) {
    return fail('RequestExpired', `Request has expired: ${amzDate} is more than ${input.skewSeconds} s before the server's time ${formatAmzDate(input.now)}`);
  }
  if (time > input.now + skewMs) {
    return fail('RequestExpired', `Signature not yet current: ${amzDate} is more than ${input.skewSeconds} s after the server's time ${formatAmzDate(input.now)}`);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    return fail('SignatureDoesNotMatch', `Date in Credential scope does not match YYYYMMDD from x-amz-date: ${scopeDate} != ${amzDate.slice(0, 8)}`);
  }
  return {
    ok: true,
    accessKeyId,
    scopeDate,
    region,
    service,
    scope: `${scopeDate}/${region}/${service}/aws4_request`,
    amzDate,
    signedHeaders,
    signature: parsed.signature,
    headers,
    method: input.method.toUpperCase(),
    path: input.path,
  };
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ as %XX (UTF-8). */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical query string: each name and value encoded, pairs sorted by name then value. */
export function canonicalQuery(params: readonly (readonly [string, string])[]): string {
  return params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The HMAC chain from the secret over date, region, service and `aws4_request`. */
function signingKey(secret: string, scopeDate: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request');
}

export interface CanonicalInput {
  readonly method: string;
  readonly path: string;
  readonly query: readonly (readonly [string, string])[];
  readonly signedHeaders: readonly string[];
  readonly headers: ReadonlyMap<string, string>;
  readonly payloadHash: string;
}

export function canonicalRequest(input: CanonicalInput): string {
  return [
    input.method,
    input.path,
    canonicalQuery(input.query),
    ...input.signedHeaders.map((h) => `${h}:${input.headers.get(h) ?? ''}`),
    '',
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

export interface SigV4Verified {
  readonly ok: true;
  /** For the log at debug and the tests: what was signed. */
  readonly canonicalRequest: string;
}

/** Step 2: the signature itself (see the module header). */
export function verifySigV4(head: SigV4Head, query: readonly (readonly [string, string])[], body: Buffer, secret: string): SigV4Verified | SigV4Failure {
  const bodyHash = sha256Hex(body);
  let payloadHash = bodyHash;
  const declared = head.headers.get('x-amz-content-sha256');
  if (declared !== undefined) {
    // Signed, so it is in the canonical request; it must also be the body's hash (no unsigned or streaming payloads).
    if (declared !== bodyHash) return fail('SignatureDoesNotMatch', 'the signed x-amz-content-sha256 is not the SHA-256 of the body (unsigned and streaming payloads are not accepted)');
    payloadHash = declared;
  }
  const canonical = canonicalRequest({ method: head.method, path: head.path, query, signedHeaders: head.signedHeaders, headers: head.headers, payloadHash });
  const expected = createHmac('sha256', signingKey(secret, head.scopeDate, head.region, head.service)).update(stringToSign(head.amzDate, head.scope, canonical), 'utf8').digest();
  const given = Buffer.from(head.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return { ok: true, canonicalRequest: canonical };
}
