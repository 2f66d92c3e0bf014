/**
 * The EC2 Query endpoint (issue 15): node:http, or node:https with
 * EC2_TLS_CERT + EC2_TLS_KEY, serving `/` and Eucalyptus's
 * `/services/compute` to the AWS CLI, boto3 and any SigV4 client.
 *
 * Order of checks, each refusal an EC2 error document (errors.ts, xml.ts):
 * 1. from the request head, before any body byte is read: method (GET or
 *    POST), path, declared Content-Length against EC2_MAX_BODY_BYTES (413),
 *    the SigV4 head (sigv4.ts: MissingAuthenticationToken,
 *    IncompleteSignature, RequestExpired) and the access key (AuthFailure);
 *    a refusal here closes the connection without draining the body
 *    (shared/http-guard.ts);
 * 2. the body, counted (413) and watched for idleness (408);
 * 3. the signature over the bytes received (SignatureDoesNotMatch);
 * 4. the key's token bucket (rate-limit.ts: RequestLimitExceeded, 503): only
 *    verified requests take tokens;
 * 5. the parameters (query.ts: a POST's form body or a GET's query string;
 *    MalformedQueryString), Action (MissingParameter, InvalidAction),
 *    Version (only 2016-11-15: InvalidParameterValue), and every other name
 *    against the action's declared params (UnknownParameter);
 * 6. the account's `default` group, on its first request in this process
 *    (CloudState.ensureDefaultGroup), then the action.
 *
 * Every request gets a UUID (`<requestId>`/`<RequestID>`) and one log line
 * (requestId, action, account, accessKeyId, status, code, ms): debug when it
 * succeeded, info when refused, error with the stack when something
 * unexpected failed (the client then reads InternalError and nothing more).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import { UserError, errorMessage } from '../../shared/errors.ts';
import { DEFAULT_PORTS } from '../../shared/paths.ts';
import { applyServerTimeouts, closeGracefully, declaredLength, httpTimeouts, readBody, refuseAndClose, serverTimeoutOptions, type BodyRefusals, type HttpTimeouts } from '../../shared/http-guard.ts';
import type { CloudState } from '../services/cloud-state.ts';
import { ADMIN_ACCOUNT_ID } from '../services/accounts.ts';
import { EC2_API_VERSION, type Ec2Action, type Ec2Deps } from './contract.ts';
import { EC2_ACTIONS_BY_NAME } from './actions.ts';
import { readSigV4Head, verifySigV4 } from './sigv4.ts';
import { decodeForm, matcherFor, type ParamPair } from './query.ts';
import { RateLimiter } from './rate-limit.ts';
import { toEc2Error } from './errors.ts';
import { errorXml, successXml } from './xml.ts';

/** The clc.conf defaults (EC2_*). */
export const EC2_DEFAULTS = {
  listen: `127.0.0.1:${DEFAULT_PORTS.ec2}`,
  clockSkewSeconds: 300,
  maxBodyBytes: 1024 * 1024,
  rateLimit: 50,
  rateBurst: 200,
} as const;

/** Paths served: AWS's `/`, and Eucalyptus's `/services/compute` (boto3 keeps a trailing slash of the endpoint URL). */
const EC2_PATHS: ReadonlySet<string> = new Set(['/', '/services/compute', '/services/compute/']);

/** The only service name a credential scope may carry. */
const SERVICE = 'ec2';

export interface Ec2ServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** PEM certificate chain and key: HTTPS. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly state: CloudState;
  readonly logger: Logger;
  /** The CLC's clock (the x-amz-date window and the rate limit). */
  readonly now: () => number;
  /** The actions served, by name (default: actions.ts). Tests register their own. */
  readonly actions?: ReadonlyMap<string, Ec2Action>;
  readonly clockSkewSeconds?: number;
  readonly maxBodyBytes?: number;
  /** Requests per second per access key (0: no limit). */
  readonly rateLimit?: number;
  readonly rateBurst?: number;
  readonly timeouts?: Partial<HttpTimeouts>;
}

export interface Ec2Server {
  readonly host: string;
  readonly port: number;
  /** `http(s)://host:port` (IPv6 in brackets). */
  readonly url: string;
  close(): Promise<void>;
}

const XML_HEADERS = { 'content-type': 'text/xml;charset=UTF-8', 'cache-control': 'no-store' } as const;

/** Refusals after which the connection is closed, never reused (as every edgenet listener). */
const CLOSING_STATUSES: ReadonlySet<number> = new Set([401, 403, 405, 408, 413]);

/** A refusal with an HTTP status of its own (method, path), outside errors.ts's table. */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly ec2Code: 'InvalidAction',
    message: string,
  ) {
    super(message);
  }
}

/** What the request log line says about the request so far. */
interface RequestFacts {
  action?: string;
  accountId?: string;
  accessKeyId?: string;
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export async function startEc2Server(options: Ec2ServerOptions): Promise<Ec2Server> {
  const { state, logger } = options;
  const actions = options.actions ?? EC2_ACTIONS_BY_NAME;
  const skewSeconds = options.clockSkewSeconds ?? EC2_DEFAULTS.clockSkewSeconds;
  const maxBody = options.maxBodyBytes ?? EC2_DEFAULTS.maxBodyBytes;
  const rate = options.rateLimit ?? EC2_DEFAULTS.rateLimit;
  const burst = options.rateBurst ?? EC2_DEFAULTS.rateBurst;
  // EC2_RATE_LIMIT=0: no limit.
  const limiter = rate > 0 ? new RateLimiter({ rate, burst }) : undefined;
  const timeouts = httpTimeouts(options.timeouts);
  const deps: Ec2Deps = { state, now: options.now };
  const refusals = bodyRefusals(maxBody, timeouts.bodyIdleMs);

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = Date.now();
    const requestId = randomUUID();
    const facts: RequestFacts = {};
    const send = (status: number, body: string, code?: string, stack?: string) => {
      const fields = { requestId, action: facts.action, account: facts.accountId, accessKeyId: facts.accessKeyId, status, ...(code ? { code } : {}), ms: Date.now() - started };
      if (stack !== undefined) logger.error('ec2 request failed', { ...fields, stack });
      else if (status >= 400) logger.info('ec2 request refused', fields);
      else logger.debug('ec2 request', fields);
      // A refusal, or any answer while the body is still unread: close without draining it.
      if (CLOSING_STATUSES.has(status) || !req.complete) {
        refuseAndClose(req, res, { status, headers: XML_HEADERS, body, logger, lingerMs: timeouts.lingerMs, fields: { requestId, ...(code ? { code } : {}) } });
        return;
      }
      // Encoded once: the length is the buffer's (a large answer's text is not walked twice, to count and to write).
      const bytes = Buffer.from(body, 'utf8');
      res.writeHead(status, { ...XML_HEADERS, 'content-length': String(bytes.length) });
      res.end(bytes);
    };
    handle(req, requestId, facts)
      .then((xml) => send(200, xml))
      .catch((err: unknown) => {
        if (err instanceof HttpRefusal) {
          send(err.status, errorXml(err.ec2Code, err.message, requestId), err.ec2Code);
          return;
        }
        const answer = toEc2Error(err, facts.action);
        const stack = answer.unexpected ? (err instanceof Error ? (err.stack ?? err.message) : errorMessage(err)) : undefined;
        send(answer.status, errorXml(answer.code, answer.message, requestId), answer.code, stack);
      });
  };

  async function handle(req: http.IncomingMessage, requestId: string, facts: RequestFacts): Promise<string> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST') {
      throw new HttpRefusal(405, 'InvalidAction', `${method} is not supported: the EC2 Query API takes POST with a form body or GET with a query string`);
    }
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? '' : target.slice(q + 1);
    if (!EC2_PATHS.has(path)) throw new HttpRefusal(404, 'InvalidAction', `no EC2 endpoint at ${JSON.stringify(path.slice(0, 100))}: use / or /services/compute`);
    const declared = declaredLength(req, maxBody);
    if (declared === 'invalid') throw new UserError('MalformedQueryString', 'invalid Content-Length');
    if (declared === 'too-large') throw new UserError('RequestEntityTooLarge', `request body over ${maxBody} bytes (EC2_MAX_BODY_BYTES)`);

    const head = readSigV4Head({ method, path, rawHeaders: req.rawHeaders, now: options.now(), skewSeconds, service: SERVICE });
    if (!head.ok) throw new UserError(head.code, head.message);
    facts.accessKeyId = head.accessKeyId;
    const key = await state.accessKeySecret(head.accessKeyId);
    if (key === undefined) throw new UserError('AuthFailure', 'AWS was not able to validate the provided access credentials: no such access key');
    facts.accountId = key.accountId;

    const body = await readBody(req, { limit: maxBody, idleMs: timeouts.bodyIdleMs, refuse: refusals });
    const query = decodeForm(rawQuery);
    if (!query.ok) throw new UserError('MalformedQueryString', `query string: ${query.message}`);
    const verified = verifySigV4(head, query.pairs, body, key.secret);
    if (!verified.ok) throw new UserError(verified.code, verified.message);
    state.accessKeyUsed(head.accessKeyId);
    if (limiter && !limiter.take(head.accessKeyId, options.now())) {
      throw new UserError('RequestLimitExceeded', `Request limit exceeded: access key ${head.accessKeyId} may send ${rate} requests a second, in bursts of up to ${burst} (EC2_RATE_LIMIT, EC2_RATE_BURST); retry with back-off`);
    }

    const pairs = method === 'POST' ? formParams(req, query.pairs, body) : getParams(query.pairs, body);
    const params = new Map<string, string>();
    for (const [name, value] of pairs) {
      if (params.has(name)) throw new UserError('MalformedQueryString', `parameter ${JSON.stringify(name.slice(0, 100))} is given more than once`);
      params.set(name, value);
    }
    const actionName = params.get('Action');
    if (actionName === undefined || actionName === '') throw new UserError('MissingParameter', 'The request must contain the parameter Action');
    facts.action = actionName.slice(0, 64);
    const action = actions.get(actionName);
    if (!action) throw new UserError('InvalidAction', `The action ${JSON.stringify(actionName.slice(0, 64))} is not valid for this web service.`);
    const version = params.get('Version');
    if (version === undefined || version === '') throw new UserError('MissingParameter', 'The request must contain the parameter Version');
    if (version !== EC2_API_VERSION) throw new UserError('InvalidParameterValue', `Version ${JSON.stringify(version.slice(0, 20))} is not supported: this endpoint speaks EC2 API version ${EC2_API_VERSION} only`);
    params.delete('Action');
    params.delete('Version');
    const matcher = matcherFor(action.params);
    for (const name of params.keys()) {
      if (!matcher.matches(name)) throw new UserError('UnknownParameter', `The parameter ${JSON.stringify(name.slice(0, 100))} is not recognized by ${action.name}`);
    }

    // CloudState remembers accounts known to have one (and forgets one whose default group is deleted).
    await state.ensureDefaultGroup(key.accountId);
    const result = await action.handle(
      { requestId, action: action.name, version, params, caller: { accountId: key.accountId, accessKeyId: head.accessKeyId, admin: key.accountId === ADMIN_ACCOUNT_ID }, region: head.region },
      deps,
    );
    return successXml(action.name, requestId, result);
  }

  const server = options.tls
    ? https.createServer({ ...serverTimeoutOptions(timeouts), cert: options.tls.cert, key: options.tls.key }, onRequest)
    : http.createServer(serverTimeoutOptions(timeouts), onRequest);
  applyServerTimeouts(server as http.Server, timeouts);
  server.on('tlsClientError', (err: Error) => logger.debug('ec2 TLS handshake failed', { error: err.message }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error('ec2 server error', { error: errorMessage(err) }));
  const address = server.address() as AddressInfo;
  const hostForUrl = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    host: address.address,
    port: address.port,
    url: `${options.tls ? 'https' : 'http'}://${hostForUrl}:${address.port}`,
    // In-flight requests get a moment to finish; then connections are cut.
    close: () => closeGracefully(server),
  };
}

/** A POST's parameters: its form body, and nothing in the query string. */
function formParams(req: http.IncomingMessage, queryPairs: readonly ParamPair[], body: Buffer): readonly ParamPair[] {
  if (queryPairs.length > 0) throw new UserError('MalformedQueryString', 'a POST carries its parameters in the form body, not in the query string');
  if (body.length === 0) return [];
  const type = req.headers['content-type'] ?? '';
  if (!FORM_TYPE.test(type)) throw new UserError('MalformedQueryString', `a POST body must be application/x-www-form-urlencoded, not ${JSON.stringify(type.slice(0, 60))}`);
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new UserError('MalformedQueryString', 'the form body is not UTF-8');
  }
  const decoded = decodeForm(text);
  if (!decoded.ok) throw new UserError('MalformedQueryString', `form body: ${decoded.message}`);
  return decoded.pairs;
}

/** A GET's parameters: its query string; a GET has no body. */
function getParams(queryPairs: readonly ParamPair[], body: Buffer): readonly ParamPair[] {
  if (body.length > 0) throw new UserError('MalformedQueryString', 'a GET carries its parameters in the query string and takes no body');
  return queryPairs;
}

/** EC2's refusals of a body (shared/http-guard.ts readBody). */
function bodyRefusals(limit: number, idleMs: number): BodyRefusals {
  return {
    tooLarge: () => new UserError('RequestEntityTooLarge', `request body over ${limit} bytes (EC2_MAX_BODY_BYTES)`),
    idle: () => new UserError('RequestTimeout', `no request body data for ${idleMs} ms`),
    broken: (err) => new UserError('MalformedQueryString', `request body: ${errorMessage(err)}`),
  };
}
