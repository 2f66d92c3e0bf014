/**
 * WS-Security X.509 verification for requests from Eucalyptus itself (a CLC
 * calling a CC, a CC calling an NC: plain HTTP, the message signed by the
 * cloud's cluster/node credentials; ../shared/reference/eucalyptus-edge.md
 * §6.1: a BinarySecurityToken, an RSA-SHA1 signature over the Body and a
 * Timestamp, Java `WsSecHandler` / Rampart/C). Opt-in: see docs/security.md.
 *
 * The XML-DSig work (canonicalisation, digests, RSA) is xml-crypto's, a
 * maintained implementation; the DOM is the one xml-crypto itself parses
 * with (@xmldom/xmldom, resolved from xml-crypto's own location, so the nodes
 * we hand it are of its kind and no second XML stack is added). What this
 * module adds is the policy around it, aimed at the classic XML-DSig attacks:
 *
 * - key: the signature is checked against the configured certificate only
 *   (xml-crypto's KeyInfo lookup is switched off), and the BinarySecurityToken
 *   must be byte-for-byte that certificate: an embedded key is never trusted;
 * - algorithms: exclusive c14n for SignedInfo and as the only transform of a
 *   reference; RSA-SHA1 or RSA-SHA256; SHA-1 or SHA-256 digests. xml-crypto's
 *   algorithm tables are cut down to these, so nothing else even runs;
 * - references: same-document `#id` only (no external or empty URIs); every
 *   id in the document is unique; the Body reference resolves to the
 *   Envelope's own Body and the Timestamp reference to the Timestamp of the one
 *   Security header, both required; other references may only name a direct
 *   child of the Header (a WS-Addressing header, say);
 * - wrapping: the operation handed to the handler is parsed from the
 *   canonical bytes xml-crypto verified for the Body reference, never from the
 *   raw text, so a second, unsigned Body cannot be what the handler reads;
 * - time: Created not later than now + skew, and the window (Expires, capped at
 *   Created + MAX_LIFETIME_MS) not over before now - skew;
 * - replay: the signed digests of Body and Timestamp are remembered until the
 *   window ends (replay-cache.ts); a second arrival is refused.
 * Every refusal is a SoapRequestError with a WSSEC_* code (→ a SOAP Fault);
 * nothing reaches a handler unless all of it held.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import xmlCrypto from 'xml-crypto';
import type { Clock } from '../clock.ts';
import type { ErrorCode } from '../error-codes.ts';
import { errorMessage } from '../errors.ts';
import { SoapRequestError, decodeBase64Strict } from './guard.ts';
import { SOAP_ENV_NS } from './envelope.ts';
import { parseXml, child, type XmlElement } from './xml.ts';
import { ReplayCache } from './replay-cache.ts';

const { SignedXml, ExclusiveCanonicalization } = xmlCrypto;

const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';
const BASE64_BINARY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SIGNATURE_ALGORITHMS = [RSA_SHA1, RSA_SHA256] as const;
const DIGEST_ALGORITHMS = [SHA1, SHA256] as const;

/** Attributes xml-crypto resolves a `#id` against (by local name, any namespace: wsu:Id, Id, ...). */
const ID_ATTRIBUTES = ['Id', 'ID', 'id'];
const ID_URI = /^#([A-Za-z_][\w.-]{0,200})$/;
const UTC_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z$/;

/** A signed Timestamp is honoured for at most this long after its Created, whatever its Expires says. */
const MAX_LIFETIME_MS = 60 * 60 * 1000;
const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;
const DEFAULT_REPLAY_ENTRIES = 10_000;

// ---- the small part of the W3C DOM we read (xmldom's nodes) ----
interface DomNode {
  readonly nodeType: number;
}
interface DomAttr {
  readonly localName: string | null;
  readonly name: string;
  readonly value: string;
}
interface DomElement extends DomNode {
  readonly localName: string | null;
  readonly namespaceURI: string | null;
  readonly childNodes: { readonly length: number; item(i: number): DomNode | null };
  readonly attributes: { readonly length: number; item(i: number): DomAttr | null };
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}
interface DomDocument {
  readonly documentElement: DomElement | null;
}
type DomParserClass = new (options: { errorHandler: Record<'warning' | 'error' | 'fatalError', (message: string) => void> }) => {
  parseFromString(xml: string, mimeType: string): DomDocument;
};

const ELEMENT_NODE = 1;
const requireFromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
const { DOMParser } = requireFromXmlCrypto('@xmldom/xmldom') as { DOMParser: DomParserClass };

export interface WsSecVerifierOptions {
  /** The Eucalyptus certificate (PEM) whose key must have signed every request. */
  readonly certificatePem: string;
  readonly clock: Clock;
  readonly clockSkewMs?: number;
  readonly replayEntries?: number;
}

export interface VerifiedRequest {
  /** The operation element, read from the signed canonical Body. */
  readonly operation: XmlElement;
  /** The signer's subject (the configured certificate's). */
  readonly signer: string;
}

/** One listener's verifier: the trusted certificate, the clock and the replay memory. */
export class WsSecVerifier {
  private readonly certificate: X509Certificate;
  private readonly certificateDer: Buffer;
  private readonly skewMs: number;
  private readonly replay: ReplayCache;

  constructor(private readonly options: WsSecVerifierOptions) {
    this.certificate = new X509Certificate(options.certificatePem);
    this.certificateDer = this.certificate.raw;
    this.skewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    this.replay = new ReplayCache(options.replayEntries ?? DEFAULT_REPLAY_ENTRIES);
  }

  get signer(): string {
    return this.certificate.subject.replace(/\n/g, ', ');
  }

  /** Verifies a whole request envelope (already size-checked and free of DOCTYPE); throws a WSSEC_* SoapRequestError. */
  verify(text: string): VerifiedRequest {
    const doc = parseDom(text);
    const parts = envelopeParts(doc);
    this.checkToken(parts.token);
    const ids = idIndex(parts.envelope);

    const sig = new SignedXml({ publicCert: this.certificate.toString(), getCertFromKeyInfo: () => null });
    restrictAlgorithms(sig);
    const signedInfoAlgorithms = signatureAlgorithms(parts.signature);
    if (signedInfoAlgorithms.c14n !== EXC_C14N) fail('WSSEC_BAD_SIGNATURE', `SignedInfo canonicalization ${signedInfoAlgorithms.c14n} is not exclusive c14n`);
    if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(signedInfoAlgorithms.signature)) fail('WSSEC_BAD_SIGNATURE', `signature algorithm ${signedInfoAlgorithms.signature} is not RSA-SHA1 or RSA-SHA256`);
    let valid: boolean;
    try {
      sig.loadSignature(parts.signature as never);
      valid = sig.checkSignature(text);
    } catch (err) {
      fail('WSSEC_BAD_SIGNATURE', `signature does not verify: ${errorMessage(err)}`);
    }
    if (!valid!) fail('WSSEC_BAD_SIGNATURE', 'signature does not verify: a reference digest does not match');

    // Authenticated from here on: which elements the signature covers.
    let body: string | undefined;
    let timestamp: string | undefined;
    const digests: string[] = [];
    for (const ref of sig.getReferences()) {
      const m = ID_URI.exec(ref.uri ?? '');
      if (!m) fail('WSSEC_BAD_SIGNATURE', `reference URI ${JSON.stringify(ref.uri)} is not a same-document #id`);
      if (ref.transforms.length !== 1 || ref.transforms[0] !== EXC_C14N) fail('WSSEC_BAD_SIGNATURE', `reference ${ref.uri}: transforms must be exactly exclusive c14n`);
      if (!(DIGEST_ALGORITHMS as readonly string[]).includes(ref.digestAlgorithm)) fail('WSSEC_BAD_SIGNATURE', `reference ${ref.uri}: digest ${ref.digestAlgorithm} is not SHA-1 or SHA-256`);
      const targets = ids.get(m![1]!) ?? [];
      if (targets.length !== 1) fail('WSSEC_BAD_SIGNATURE', `reference ${ref.uri} resolves to ${targets.length} elements`);
      const target = targets[0]!;
      if (ref.signedReference === undefined) fail('WSSEC_BAD_SIGNATURE', `reference ${ref.uri} was not verified`);
      if (target === parts.body) body = ref.signedReference;
      else if (target === parts.timestamp) timestamp = ref.signedReference;
      else if (!parts.headerChildren.includes(target)) fail('WSSEC_BAD_SIGNATURE', `reference ${ref.uri} names an element that is neither the Body, the Timestamp nor a header`);
      digests.push(`${ref.digestAlgorithm} ${String(ref.digestValue)}`);
    }
    if (body === undefined) fail('WSSEC_BAD_SIGNATURE', 'the signature does not cover the SOAP Body');
    if (timestamp === undefined) fail('WSSEC_BAD_SIGNATURE', 'the signature does not cover the Timestamp');

    const now = this.options.clock.now();
    const windowEnd = this.checkTime(timestamp!, now);
    const key = createHash('sha256').update(digests.sort().join('\n')).digest('base64');
    const verdict = this.replay.remember(key, windowEnd + this.skewMs, now);
    if (verdict === 'replayed') fail('WSSEC_REPLAYED', 'this signed request was already accepted');
    if (verdict === 'full') fail('WSSEC_REPLAY_CACHE_FULL', 'too many signed requests inside their time window', 'Server');
    return { operation: signedOperation(body!), signer: this.signer };
  }

  private checkToken(token: DomElement): void {
    const valueType = token.getAttribute('ValueType');
    if (valueType !== X509V3) fail('WSSEC_UNTRUSTED_CERTIFICATE', `BinarySecurityToken ValueType ${JSON.stringify(valueType)} is not X509v3`);
    const encoding = token.getAttribute('EncodingType');
    if (encoding && encoding !== BASE64_BINARY) fail('WSSEC_UNTRUSTED_CERTIFICATE', `BinarySecurityToken EncodingType ${encoding} is not Base64Binary`);
    let der: Buffer;
    try {
      der = decodeBase64Strict((token.textContent ?? '').trim(), 'BinarySecurityToken');
    } catch (err) {
      fail('WSSEC_UNTRUSTED_CERTIFICATE', errorMessage(err));
    }
    if (!der!.equals(this.certificateDer)) fail('WSSEC_UNTRUSTED_CERTIFICATE', `the BinarySecurityToken (${presentedSubject(der!)}) is not the configured Eucalyptus certificate (EUCA_WSSEC_CERT)`);
  }

  /** Returns the end of the acceptance window (epoch ms, before skew). */
  private checkTime(canonicalTimestamp: string, now: number): number {
    const ts = parseXml(canonicalTimestamp);
    const created = utcTime(ts, 'Created');
    if (created === undefined) fail('WSSEC_UNSIGNED', 'the Timestamp has no Created');
    const expires = utcTime(ts, 'Expires');
    const end = Math.min(expires ?? Infinity, created! + MAX_LIFETIME_MS);
    if (created! > now + this.skewMs) fail('WSSEC_EXPIRED', `the Timestamp was created ${Math.round((created! - now) / 1000)} s in the future (allowed skew ${this.skewMs / 1000} s)`);
    if (end < now - this.skewMs) fail('WSSEC_EXPIRED', `the Timestamp expired ${Math.round((now - end) / 1000)} s ago (allowed skew ${this.skewMs / 1000} s)`);
    return end;
  }
}

/** The subject of a presented certificate, for the operator's log (which file to configure); never trusted. */
function presentedSubject(der: Buffer): string {
  try {
    return `subject ${new X509Certificate(der).subject.replace(/\n/g, ', ')}`;
  } catch {
    return 'not a certificate';
  }
}

function fail(code: ErrorCode, message: string, faultCode: 'Client' | 'Server' = 'Client'): never {
  throw new SoapRequestError(code, message, { faultCode });
}

function parseDom(text: string): DomDocument {
  const raise = (message: string) => {
    throw new SoapRequestError('MALFORMED_XML', `XML (DOM): ${message.trim()}`);
  };
  return new DOMParser({ errorHandler: { warning: () => {}, error: raise, fatalError: raise } }).parseFromString(text, 'text/xml');
}

function elements(el: DomElement): DomElement[] {
  const out: DomElement[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const n = el.childNodes.item(i);
    if (n && n.nodeType === ELEMENT_NODE) out.push(n as DomElement);
  }
  return out;
}

function named(list: readonly DomElement[], ns: string, local: string): DomElement[] {
  return list.filter((e) => e.namespaceURI === ns && e.localName === local);
}

interface EnvelopeParts {
  readonly envelope: DomElement;
  readonly body: DomElement;
  readonly headerChildren: readonly DomElement[];
  readonly timestamp: DomElement;
  readonly signature: DomElement;
  readonly token: DomElement;
}

/** The one Envelope, Header, Body, Security, Timestamp, Signature and BinarySecurityToken; anything ambiguous is refused. */
function envelopeParts(doc: DomDocument): EnvelopeParts {
  const envelope = doc.documentElement;
  const ns = envelope?.namespaceURI;
  if (!envelope || envelope.localName !== 'Envelope' || (ns !== SOAP_ENV_NS && ns !== SOAP12_NS)) fail('MALFORMED_SOAP', 'root element is not a SOAP Envelope');
  const top = elements(envelope!);
  const headers = named(top, ns!, 'Header');
  const bodies = named(top, ns!, 'Body');
  if (bodies.length !== 1 || headers.length > 1 || top.length !== bodies.length + headers.length) fail('MALFORMED_SOAP', 'a SOAP Envelope holds one optional Header and one Body, nothing else');
  if (headers.length === 0) fail('WSSEC_UNSIGNED', 'no SOAP Header, so no WS-Security signature');
  const headerChildren = elements(headers[0]!);
  const security = named(headerChildren, WSSE_NS, 'Security');
  if (security.length === 0) fail('WSSEC_UNSIGNED', 'no wsse:Security header');
  if (security.length > 1) fail('WSSEC_BAD_SIGNATURE', 'more than one wsse:Security header');
  const inside = elements(security[0]!);
  const signatures = named(inside, DS_NS, 'Signature');
  const timestamps = named(inside, WSU_NS, 'Timestamp');
  const tokens = named(inside, WSSE_NS, 'BinarySecurityToken');
  if (signatures.length === 0) fail('WSSEC_UNSIGNED', 'the wsse:Security header holds no ds:Signature');
  if (timestamps.length === 0) fail('WSSEC_UNSIGNED', 'the wsse:Security header holds no wsu:Timestamp');
  if (tokens.length === 0) fail('WSSEC_UNSIGNED', 'the wsse:Security header holds no BinarySecurityToken');
  if (signatures.length > 1 || timestamps.length > 1 || tokens.length > 1) fail('WSSEC_BAD_SIGNATURE', 'the wsse:Security header holds more than one Signature, Timestamp or BinarySecurityToken');
  return { envelope: envelope!, body: bodies[0]!, headerChildren: headerChildren.filter((h) => h !== security[0]), timestamp: timestamps[0]!, signature: signatures[0]!, token: tokens[0]! };
}

/** Every id value in the document → the elements carrying it (by the attributes xml-crypto resolves). */
function idIndex(root: DomElement): Map<string, DomElement[]> {
  const out = new Map<string, DomElement[]>();
  const walk = (el: DomElement) => {
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i);
      if (!a || !ID_ATTRIBUTES.includes(a.localName ?? a.name)) continue;
      const list = out.get(a.value) ?? [];
      list.push(el);
      out.set(a.value, list);
    }
    for (const c of elements(el)) walk(c);
  };
  walk(root);
  return out;
}

function signatureAlgorithms(signature: DomElement): { c14n: string; signature: string } {
  const signedInfo = named(elements(signature), DS_NS, 'SignedInfo');
  if (signedInfo.length !== 1) fail('WSSEC_BAD_SIGNATURE', 'a ds:Signature holds exactly one SignedInfo');
  const parts = elements(signedInfo[0]!);
  const c14n = named(parts, DS_NS, 'CanonicalizationMethod');
  const method = named(parts, DS_NS, 'SignatureMethod');
  if (c14n.length !== 1 || method.length !== 1) fail('WSSEC_BAD_SIGNATURE', 'SignedInfo needs one CanonicalizationMethod and one SignatureMethod');
  return { c14n: c14n[0]!.getAttribute('Algorithm') ?? '', signature: method[0]!.getAttribute('Algorithm') ?? '' };
}

/** Leaves xml-crypto only the algorithms we accept, so no other one can run. */
function restrictAlgorithms(sig: InstanceType<typeof SignedXml>): void {
  const keep = <T>(table: Record<string, T>, names: readonly string[]) => Object.fromEntries(names.map((n) => [n, table[n]!]));
  sig.SignatureAlgorithms = keep(sig.SignatureAlgorithms, SIGNATURE_ALGORITHMS) as typeof sig.SignatureAlgorithms;
  sig.HashAlgorithms = keep(sig.HashAlgorithms, DIGEST_ALGORITHMS) as typeof sig.HashAlgorithms;
  sig.CanonicalizationAlgorithms = { [EXC_C14N]: ExclusiveCanonicalization } as typeof sig.CanonicalizationAlgorithms;
}

function utcTime(ts: XmlElement, name: string): number | undefined {
  const el = child(ts, name);
  if (el === undefined) return undefined;
  const text = el.text.trim();
  const t = Date.parse(text);
  if (!UTC_TIME.test(text) || !Number.isFinite(t)) fail('WSSEC_EXPIRED', `Timestamp ${name} ${JSON.stringify(text.slice(0, 40))} is not a UTC time`);
  return t;
}

/** The single operation element of the signed canonical Body. */
function signedOperation(canonicalBody: string): XmlElement {
  const body = parseXml(canonicalBody);
  if (body.name !== 'Body' || body.children.length !== 1) fail('MALFORMED_SOAP', 'SOAP Body must hold exactly one element');
  return body.children[0]!;
}
