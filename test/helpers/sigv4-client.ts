/**
 * A SigV4 *signer* and raw client for the EC2 endpoint, written apart from
 * the server's verifier (src/cloud-controller/ec2/sigv4.ts) so tests do not
 * check the verifier against itself: it signs the way botocore does (form
 * body, `content-type;host;x-amz-date` signed, payload hash in the canonical
 * request only) and sends the bytes with node:http(s), so a test can resend
 * a signed request with one byte changed, replay it later, or sign with any
 * clock. The bench reuses it.
 */
import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignOptions {
  /** `http://127.0.0.1:8788` (a path after it is the request path: `/services/compute`). */
  readonly endpoint: string;
  readonly credentials: SigV4Credentials;
  /** Parameters, in order (`Action`, `Version` first, as the clients send them). */
  readonly params: readonly (readonly [string, string])[];
  readonly method?: 'POST' | 'GET';
  readonly region?: string;
  readonly service?: string;
  /** The signing time (ms); default now. */
  readonly time?: number;
  /** Headers added before signing; signed unless named in `unsigned`. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly unsigned?: readonly string[];
  /** A POST's query string parameters, signed (the endpoint refuses them: parameters go in the body). */
  readonly query?: readonly (readonly [string, string])[];
}

export interface SignedRequest {
  readonly method: 'POST' | 'GET';
  readonly url: string;
  /** The path and query as sent. */
  readonly target: string;
  /** Header names as sent (botocore's spelling). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly canonicalRequest: string;
  readonly signature: string;
}

/** Percent-encoding as botocore writes a form (`urllib.parse.quote(safe='-_.~')`). */
export function awsEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function formBody(params: readonly (readonly [string, string])[]): string {
  return params.map(([k, v]) => `${awsEncode(k)}=${awsEncode(v)}`).join('&');
}

const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

export function amzDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** Signs an EC2 Query request (POST form by default, or GET with the query string). */
export function signEc2(options: SignOptions): SignedRequest {
  const method = options.method ?? 'POST';
  const base = new URL(options.endpoint);
  const path = base.pathname === '' ? '/' : base.pathname;
  const encoded = formBody(options.params);
  const body = Buffer.from(method === 'POST' ? encoded : '', 'utf8');
  const date = amzDate(options.time ?? Date.now());
  const headers: Record<string, string> = {};
  if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  headers.host = base.host;
  headers['X-Amz-Date'] = date;
  Object.assign(headers, options.headers ?? {});
  const unsigned = new Set((options.unsigned ?? []).map((h) => h.toLowerCase()));
  const signedNames = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .filter((h) => !unsigned.has(h))
    .sort();
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const queryParams = method === 'GET' ? options.params : (options.query ?? []);
  const query =
    queryParams.length > 0
      ? queryParams
          .map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
          .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
          .map(([k, v]) => `${k}=${v}`)
          .join('&')
      : '';
  const canonicalRequest = [method, path, query, ...signedNames.map((h) => `${h}:${lower.get(h)!.trim().replace(/\s+/g, ' ')}`), '', signedNames.join(';'), hex(body)].join('\n');
  const region = options.region ?? 'eucalyptus';
  const service = options.service ?? 'ec2';
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${options.credentials.secretAccessKey}`, date.slice(0, 8)), region), service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  headers.Authorization = `AWS4-HMAC-SHA256 Credential=${options.credentials.accessKeyId}/${scope}, SignedHeaders=${signedNames.join(';')}, Signature=${signature}`;
  const target = queryParams.length > 0 ? `${path}?${formBody(queryParams)}` : path;
  return { method, url: `${base.protocol}//${base.host}${target}`, target, headers, body, canonicalRequest, signature };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Sends a signed (or hand-made) request as is; `ca` for an HTTPS endpoint with a test CA. */
export function sendRaw(request: Pick<SignedRequest, 'method' | 'url' | 'headers' | 'body'>, options: { ca?: string | Buffer } = {}): Promise<RawResponse> {
  const url = new URL(request.url);
  const headers: Record<string, string> = { ...request.headers };
  if (request.body.length > 0 && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(request.body.length);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(
      { method: request.method, host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers, agent: false, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Signs and sends. */
export function ec2Call(options: SignOptions, send: { ca?: string | Buffer } = {}): Promise<RawResponse> {
  return sendRaw(signEc2(options), send);
}

/** The code, message and request id of an EC2 error document (undefined for a success). */
export function ec2ErrorOf(body: string): { code: string; message: string; requestId: string } | undefined {
  const m = /^<\?xml[^>]*>\s*<Response><Errors><Error><Code>([^<]*)<\/Code><Message>([^<]*)<\/Message><\/Error><\/Errors><RequestID>([^<]*)<\/RequestID><\/Response>$/.exec(body);
  return m ? { code: m[1]!, message: m[2]!, requestId: m[3]! } : undefined;
}
