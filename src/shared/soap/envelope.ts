/**
 * SOAP 1.1 envelopes as edgenet writes and reads them (document/literal, the
 * style of Eucalyptus's eucalyptus_cc.wsdl / eucalyptus_nc.wsdl). Requests and
 * responses are written by hand (the payload is one large Base64 string, which
 * must not be copied through an object-to-XML mapper) and read with the strict
 * reader in `xml.ts`. SOAP 1.2 envelopes are read too (matched by local name).
 *
 * A Fault carries `faultcode` (soap:Client / soap:Server), a `faultstring`, and
 * `detail/code`: the stable edgenet error code (e.g. STALE_SEQUENCE).
 *
 * Namespaces: Eucalyptus's WSDLs declare `elementFormDefault="qualified"`
 * (eucalyptus-edge.md §6.1; wsdl/eucalyptus_cc.wsdl in 4.4.2), so the
 * operation element AND every child element we write are in EUCA_NS, written
 * with the `euca:` prefix the envelope declares. An Axis2/C peer (a real CC or
 * NC) matches children by qualified name and would not see unqualified ones.
 * Readers stay namespace-blind (xml.ts matches local names): edgenet releases
 * before this one wrote unqualified children, and an upgrade runs old and new
 * peers side by side.
 */
import { parseXml, child, escapeXml, type XmlElement } from './xml.ts';
import { SoapRequestError } from './guard.ts';
import { EdgenetError } from '../errors.ts';
import { isErrorCode, type ErrorCode } from '../error-codes.ts';

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
/** Namespace of the Eucalyptus messages (kept for wire compatibility); edgenet's additions live in it too. */
export const EUCA_NS = 'http://eucalyptus.ucsb.edu/';

/** The prefix bound to EUCA_NS on every envelope we write. */
const EUCA_PREFIX = 'euca';

/** A value written as one child element; undefined values are omitted. */
export type Field = string | number | boolean | undefined | Field[] | { readonly [k: string]: Field };

/**
 * Writes `{a: 1, b: [{c: 'x'}]}` as `<euca:a>1</euca:a><euca:b><euca:c>x</euca:c></euca:b>`
 * (arrays repeat the element), in the object's key order: callers list keys in
 * the WSDL's sequence order.
 */
export function fieldsXml(fields: { readonly [k: string]: Field }): string {
  let out = '';
  for (const [name, value] of Object.entries(fields)) out += fieldXml(name, value);
  return out;
}

function fieldXml(name: string, value: Field): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => fieldXml(name, v)).join('');
  const q = `${EUCA_PREFIX}:${name}`;
  if (typeof value === 'object') return `<${q}>${fieldsXml(value)}</${q}>`;
  return `<${q}>${escapeXml(String(value))}</${q}>`;
}

/** A complete envelope whose Body holds `<euca:{operation}>{inner}</euca:{operation}>`. */
export function envelope(operation: string, inner: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:${EUCA_PREFIX}="${EUCA_NS}"><soapenv:Body>` +
    `<${EUCA_PREFIX}:${operation}>${inner}</${EUCA_PREFIX}:${operation}>` +
    `</soapenv:Body></soapenv:Envelope>`
  );
}

export function faultEnvelope(faultCode: 'Client' | 'Server', code: ErrorCode, message: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:euca="${EUCA_NS}"><soapenv:Body><soapenv:Fault>` +
    `<faultcode>soapenv:${faultCode}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
    `<detail><euca:code>${escapeXml(code)}</euca:code></detail>` +
    `</soapenv:Fault></soapenv:Body></soapenv:Envelope>`
  );
}

/** The operation element inside an envelope's Body (throws MALFORMED_SOAP). */
export function bodyElement(xml: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    const code = err instanceof EdgenetError ? err.code : 'MALFORMED_XML';
    throw new SoapRequestError(code, err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (root.name !== 'Envelope') throw new SoapRequestError('MALFORMED_SOAP', `root element is <${root.qname}>, not a SOAP Envelope`);
  const body = child(root, 'Body');
  if (!body) throw new SoapRequestError('MALFORMED_SOAP', 'SOAP Envelope without Body');
  const op = body.children[0];
  if (!op || body.children.length !== 1) throw new SoapRequestError('MALFORMED_SOAP', 'SOAP Body must hold exactly one element');
  return op;
}

/** A Fault returned by a peer. */
export class SoapFault extends EdgenetError {
  readonly faultCode: string;

  constructor(faultCode: string, code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details === undefined ? {} : { details });
    this.name = 'SoapFault';
    this.faultCode = faultCode;
  }
}

const FAULT_CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** Reads a response: returns the Body element, or throws SoapFault for a Fault. */
export function responseElement(xml: string): XmlElement {
  const op = bodyElement(xml);
  if (op.name === 'Fault') {
    const detail = child(op, 'detail') ?? child(op, 'Detail');
    const raw = detail && child(detail, 'code')?.text.trim();
    // The peer chooses this text and it flows into logs, metrics labels and
    // retry decisions: only a registered code is taken as one; another plain
    // code (a newer or foreign peer) is kept as details.peerCode (found by fuzzing).
    const plain = raw && FAULT_CODE.test(raw) ? raw : undefined;
    const code = plain !== undefined && isErrorCode(plain) ? plain : 'SOAP_FAULT';
    const details = plain !== undefined && code === 'SOAP_FAULT' ? { peerCode: plain } : undefined;
    throw new SoapFault(child(op, 'faultcode')?.text.trim() ?? '', code, child(op, 'faultstring')?.text.trim() ?? 'SOAP Fault', details);
  }
  return op;
}
