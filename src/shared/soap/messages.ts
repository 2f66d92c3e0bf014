/**
 * The pipeline's SOAP messages as data, with their writers and readers.
 *
 * Broadcast (`BroadcastNetworkInfo` to a CC, `ncBroadcastNetworkInfo` to an NC):
 * Eucalyptus 4.4's `eucalyptusMessage` base fields (correlationId, userId,
 * statusMessage, return, epoch, services*, disabledServices*, notreadyServices*,
 * nodeName) — read leniently, only the ones we use are kept — then optional
 * `version`, optional `appliedVersion`, required `networkInfo` (the GNI XML,
 * Base64), and edgenet's optional additions `sequence`, `generation` (the CLC
 * database's epoch, see shared/freshness.ts) and `nodes/node{name,url}` (the
 * CC's node controllers, known to the CLC from node registration).
 *
 * Status (`DescribeNetworkStatus` on a CC, `ncDescribeNetworkStatus` on an NC):
 * one `node` record per node controller (the NC returns one for itself).
 *
 * Writers emit every field qualified (envelope.ts) and in the order of the
 * WSDL's sequences (wsdl/*.wsdl: the base `eucalyptusMessage` fields first,
 * then the extension's), so a schema-driven peer — Axis2/C in a Eucalyptus CC
 * or NC — reads them; test/unit/pipeline/wsdl-conformance.test.ts checks each
 * message against the WSDL. Readers match local names in any order, so they
 * also take the unqualified messages older edgenet releases wrote.
 */
import { envelope, fieldsXml, type Field } from './envelope.ts';
import type { NetdLivenessFields } from '../netd-status.ts';
import { child, childrenNamed, childText, type XmlElement } from './xml.ts';
import { SoapRequestError } from './guard.ts';

export const CC_ACTIONS = {
  broadcast: 'EucalyptusCC#BroadcastNetworkInfo',
  status: 'EucalyptusCC#DescribeNetworkStatus',
} as const;
export const NC_ACTIONS = {
  broadcast: 'EucalyptusNC#ncBroadcastNetworkInfo',
  status: 'EucalyptusNC#ncDescribeNetworkStatus',
} as const;

export interface NodeTarget {
  readonly name: string;
  readonly url: string;
}

export interface BroadcastRequest {
  readonly correlationId?: string;
  readonly userId?: string;
  readonly nodeName?: string;
  readonly version?: string;
  readonly sequence?: number;
  readonly generation?: number;
  /** The GNI XML, Base64 (forwarded unchanged CC → NC). */
  readonly networkInfo: string;
  /** Only CLC → CC. */
  readonly nodes?: readonly NodeTarget[];
}

export type BroadcastOutcome =
  /** CC: a newer document was stored and fan-out started. */
  | 'stored'
  /** CC: same document as held; fan-out resumed for nodes that lack it. */
  | 'unchanged'
  /** NC: the shared file was written. */
  | 'written'
  /** NC: same version as held; the file was left alone. */
  | 'skipped';

export interface BroadcastReply {
  readonly outcome: BroadcastOutcome;
  readonly version?: string;
  readonly sequence?: number;
  readonly generation?: number;
}

/** What the pipeline knows about one node (NC → CC → CLC). */
export interface NodeReport extends NetdLivenessFields {
  readonly name: string;
  readonly url?: string;
  /** The document the NC holds (written to its shared file). */
  readonly deliveredVersion?: string;
  readonly deliveredSequence?: number;
  readonly deliveredGeneration?: number;
  readonly deliveredAt?: string;
  /** netd's last result, `no-status` before netd ever wrote one, `unreachable` when the NC did not answer. */
  readonly result: string;
  readonly appliedVersion?: string;
  readonly appliedSequence?: number;
  readonly appliedGeneration?: number;
  readonly appliedAt?: string;
  /** When netd wrote its status. */
  readonly statusAt?: string;
  readonly lastError?: string;
  /** When the CC last heard from the NC. */
  readonly polledAt?: string;
}

export interface StatusReply {
  /** The document the answering CC holds (absent on an NC). */
  readonly version?: string;
  readonly sequence?: number;
  readonly generation?: number;
  readonly receivedAt?: string;
  readonly nodes: readonly NodeReport[];
}

export function broadcastInner(req: BroadcastRequest): string {
  return fieldsXml({
    correlationId: req.correlationId,
    userId: req.userId ?? 'eucalyptus',
    nodeName: req.nodeName,
    version: req.version,
    networkInfo: req.networkInfo,
    sequence: req.sequence,
    generation: req.generation,
    nodes: req.nodes ? { node: req.nodes.map((n) => ({ name: n.name, url: n.url })) } : undefined,
  });
}

/**
 * The complete broadcast envelope as bytes, built without copying the Base64
 * through string concatenation, a UTF-8 encoder or an escaping regex: the
 * megabytes of `networkInfo` are written into the buffer as latin1 (one
 * memcpy) and then checked there — all ASCII (`Buffer.byteLength` equals the
 * string length, so latin1 wrote every character exactly) and free of `<`,
 * `&` and `>` (native byte searches). Text that fails the check (not Base64,
 * which a CC would refuse anyway) goes through the escaping writer instead, so
 * the result is always the same XML `broadcastInner` would produce.
 */
export function broadcastEnvelope(operation: string, req: BroadcastRequest): Buffer {
  const MARK = '\u0000';
  const parts = envelope(operation, broadcastInner({ ...req, networkInfo: MARK })).split(MARK);
  if (parts.length !== 2) return Buffer.from(envelope(operation, broadcastInner(req)), 'utf8');
  const [head, tail] = parts as [string, string];
  const info = req.networkInfo;
  const headLength = Buffer.byteLength(head);
  const tailLength = Buffer.byteLength(tail);
  const out = Buffer.allocUnsafe(headLength + info.length + tailLength);
  out.write(head, 0, 'utf8');
  out.write(info, headLength, 'latin1');
  const end = headLength + info.length;
  const region = out.subarray(headLength, end);
  const clean = Buffer.byteLength(info) === info.length && region.indexOf(0x3c) === -1 && region.indexOf(0x26) === -1 && region.indexOf(0x3e) === -1;
  if (!clean) return Buffer.from(envelope(operation, broadcastInner(req)), 'utf8');
  out.write(tail, end, 'utf8');
  return out;
}

const VERSION = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseBroadcast(el: XmlElement): BroadcastRequest {
  const networkInfo = child(el, 'networkInfo');
  if (!networkInfo) throw new SoapRequestError('MISSING_FIELD', `${el.name}: networkInfo is required`);
  const version = childText(el, 'version') || undefined;
  if (version !== undefined && !VERSION.test(version)) throw new SoapRequestError('BAD_FIELD', `${el.name}: bad version "${version.slice(0, 40)}"`);
  const nodesEl = child(el, 'nodes');
  let nodes: NodeTarget[] | undefined;
  if (nodesEl) {
    nodes = childrenNamed(nodesEl, 'node').map((n, i) => {
      const name = childText(n, 'name');
      const url = childText(n, 'url');
      if (!name || !url || !/^https:\/\/[^\s/]+(\/\S*)?$/.test(url)) throw new SoapRequestError('BAD_FIELD', `${el.name}: nodes/node[${i}] needs a name and an https url`);
      return { name, url };
    });
  }
  return {
    correlationId: childText(el, 'correlationId'),
    userId: childText(el, 'userId'),
    nodeName: childText(el, 'nodeName'),
    version,
    sequence: optInt(el, 'sequence'),
    ...optField('generation', optInt(el, 'generation')),
    networkInfo: networkInfo.text,
    nodes,
  };
}

/**
 * The reply to a broadcast. An edgenet sender always sends `sequence`; a
 * request without one comes from a Eucalyptus CLC or CC (or is one relayed
 * unchanged), whose WSDL's `broadcastNetworkInfoResponseType` adds nothing to
 * the base message (Eucalyptus 4.4.2 wsdl/eucalyptus_cc.wsdl) and whose CC sets
 * `statusMessage` only on error (eucalyptus-edge.md §6.1). It gets exactly
 * that: correlationId, userId, return — no edgenet element its reader does
 * not know, no status text it could take for an error.
 */
export function broadcastReplyInner(req: BroadcastRequest, reply: BroadcastReply): string {
  if (req.sequence === undefined) return fieldsXml({ correlationId: req.correlationId, userId: req.userId, return: true });
  return fieldsXml({
    correlationId: req.correlationId,
    userId: req.userId,
    statusMessage: reply.outcome,
    return: true,
    version: reply.version,
    sequence: reply.sequence,
    generation: reply.generation,
  });
}

export function parseBroadcastReply(el: XmlElement): BroadcastReply {
  const outcome = childText(el, 'statusMessage');
  if (childText(el, 'return') === 'false') throw new SoapRequestError('REFUSED', `${el.name}: peer returned false (${outcome ?? 'no message'})`);
  const known: readonly BroadcastOutcome[] = ['stored', 'unchanged', 'written', 'skipped'];
  return {
    outcome: known.includes(outcome as BroadcastOutcome) ? (outcome as BroadcastOutcome) : 'stored',
    version: childText(el, 'version') || undefined,
    sequence: optInt(el, 'sequence'),
    ...optField('generation', optInt(el, 'generation')),
  };
}

export function statusReplyInner(reply: StatusReply): string {
  return fieldsXml({
    return: true,
    version: reply.version,
    sequence: reply.sequence,
    generation: reply.generation,
    receivedAt: reply.receivedAt,
    node: reply.nodes.map(nodeReportFields),
  });
}

/** A node report's fields in the WSDL's `nodeReportType` order (not the object's key order, which depends on who built it). */
function nodeReportFields(n: NodeReport): { [k: string]: Field } {
  // Every key of NodeReport, required here: a new report field fails to compile until it is placed.
  const fields: Readonly<Record<keyof NodeReport, Field>> = {
    name: n.name,
    url: n.url,
    deliveredVersion: n.deliveredVersion,
    deliveredSequence: n.deliveredSequence,
    deliveredGeneration: n.deliveredGeneration,
    deliveredAt: n.deliveredAt,
    result: n.result,
    appliedVersion: n.appliedVersion,
    appliedSequence: n.appliedSequence,
    appliedGeneration: n.appliedGeneration,
    appliedAt: n.appliedAt,
    statusAt: n.statusAt,
    lastError: n.lastError,
    polledAt: n.polledAt,
    netdLiveness: n.netdLiveness,
    netdPid: n.netdPid,
    netdHeartbeatAt: n.netdHeartbeatAt,
    netdHeartbeatAgeMs: n.netdHeartbeatAgeMs,
  };
  return fields;
}

export function parseStatusReply(el: XmlElement): StatusReply {
  return {
    version: childText(el, 'version') || undefined,
    sequence: optInt(el, 'sequence'),
    ...optField('generation', optInt(el, 'generation')),
    receivedAt: childText(el, 'receivedAt') || undefined,
    nodes: childrenNamed(el, 'node').map(parseNodeReport),
  };
}

function parseNodeReport(n: XmlElement): NodeReport {
  const s = (k: string) => childText(n, k) || undefined;
  return {
    name: s('name') ?? '?',
    url: s('url'),
    deliveredVersion: s('deliveredVersion'),
    deliveredSequence: optInt(n, 'deliveredSequence'),
    ...optField('deliveredGeneration', optInt(n, 'deliveredGeneration')),
    deliveredAt: s('deliveredAt'),
    result: s('result') ?? 'no-status',
    appliedVersion: s('appliedVersion'),
    appliedSequence: optInt(n, 'appliedSequence'),
    ...optField('appliedGeneration', optInt(n, 'appliedGeneration')),
    appliedAt: s('appliedAt'),
    statusAt: s('statusAt'),
    lastError: s('lastError'),
    polledAt: s('polledAt'),
    netdLiveness: s('netdLiveness') as NodeReport['netdLiveness'],
    netdPid: optInt(n, 'netdPid'),
    netdHeartbeatAt: s('netdHeartbeatAt'),
    netdHeartbeatAgeMs: optInt(n, 'netdHeartbeatAgeMs'),
  };
}

function optInt(el: XmlElement, name: string): number | undefined {
  const t = childText(el, name);
  if (t === undefined || t === '') return undefined;
  if (!/^\d{1,15}$/.test(t)) throw new SoapRequestError('BAD_FIELD', `${el.name}: ${name} must be a non-negative integer`);
  return Number(t);
}

/** `{[name]: value}` when value is defined, else `{}`: fields added after 4.4 stay absent when not sent. */
function optField<K extends string>(name: K, value: number | undefined): { [k in K]?: number } {
  return (value === undefined ? {} : { [name]: value }) as { [k in K]?: number };
}
