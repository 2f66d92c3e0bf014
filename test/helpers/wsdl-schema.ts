/**
 * A checker for SOAP body elements against the XML Schema inside a WSDL's
 * `types`: the subset edgenet's WSDLs (and Eucalyptus's eucalyptus_cc.wsdl /
 * eucalyptus_nc.wsdl) use — global elements, named complex types with one
 * `sequence` of elements, `complexContent/extension` of a base type,
 * minOccurs/maxOccurs, and the simple types string, boolean, int, long,
 * dateTime and anyURI. It resolves namespaces the way a schema-driven reader
 * (Axis2/C's generated code in a Eucalyptus CC or NC) does, so an unqualified
 * child under `elementFormDefault="qualified"` is reported, as is a child out
 * of sequence order, a missing required one, or a value of the wrong lexical
 * form. Anything outside the subset throws, so a WSDL change the checker does
 * not understand cannot pass silently.
 *
 * Test-only: it reads the WSDL with edgenet's strict XML reader (which keeps
 * prefixes and xmlns attributes) and resolves prefixes itself.
 */
import { parseXml, type XmlElement } from '../../src/shared/soap/xml.ts';

const XS = 'http://www.w3.org/2001/XMLSchema';

interface QName {
  readonly ns: string;
  readonly local: string;
}

interface Particle {
  readonly name: string;
  readonly type: QName;
  readonly min: number;
  readonly max: number;
}

export interface WsdlSchema {
  readonly targetNamespace: string;
  readonly qualified: boolean;
  /** Global element name → its type. */
  readonly elements: ReadonlyMap<string, QName>;
  /** Complex type name → its particles, base type's first. */
  readonly types: ReadonlyMap<string, readonly Particle[]>;
}

type Scope = ReadonlyMap<string, string>;

function scopeOf(el: XmlElement, parent: Scope): Scope {
  let scope: Map<string, string> | undefined;
  for (const [k, v] of Object.entries(el.attrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      scope ??= new Map(parent);
      scope.set(k === 'xmlns' ? '' : k.slice(6), v);
    }
  }
  return scope ?? parent;
}

/** The element's namespace: its prefix's binding, or the default namespace ('' when none). */
function namespaceOf(el: XmlElement, scope: Scope): string {
  const colon = el.qname.indexOf(':');
  const prefix = colon === -1 ? '' : el.qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined && prefix !== '') throw new Error(`prefix ${prefix} of <${el.qname}> is not declared`);
  return ns ?? '';
}

function resolveQName(text: string, scope: Scope): QName {
  const colon = text.indexOf(':');
  const prefix = colon === -1 ? '' : text.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new Error(`prefix of ${text} is not declared`);
  return { ns, local: colon === -1 ? text : text.slice(colon + 1) };
}

function occurs(text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  return text === 'unbounded' ? Infinity : Number(text);
}

/** Reads the schema in a WSDL's `types` (exactly one `xs:schema`). */
export function loadWsdlSchema(wsdl: string): WsdlSchema {
  const root = parseXml(wsdl);
  const rootScope = scopeOf(root, new Map());
  const types = root.children.find((c) => c.name === 'types');
  const schema = types?.children.find((c) => c.name === 'schema');
  if (types === undefined || schema === undefined) throw new Error('WSDL without types/schema');
  const scope = scopeOf(schema, scopeOf(types, rootScope));
  const targetNamespace = schema.attrs['targetNamespace'] ?? '';
  const elements = new Map<string, QName>();
  const raw = new Map<string, { base?: QName; particles: Particle[] }>();
  for (const item of schema.children) {
    if (namespaceOf(item, scope) !== XS) throw new Error(`unexpected <${item.qname}> in schema`);
    if (item.name === 'element') {
      elements.set(item.attrs['name']!, resolveQName(item.attrs['type']!, scope));
    } else if (item.name === 'complexType') {
      raw.set(item.attrs['name']!, complexType(item, scope));
    } else {
      throw new Error(`schema construct <${item.qname}> is outside the checker's subset`);
    }
  }
  const flat = new Map<string, readonly Particle[]>();
  const flatten = (name: string, seen: string[] = []): readonly Particle[] => {
    const done = flat.get(name);
    if (done) return done;
    const t = raw.get(name);
    if (t === undefined) throw new Error(`complex type ${name} is not defined`);
    if (seen.includes(name)) throw new Error(`complex type ${name} extends itself`);
    const base = t.base ? flatten(t.base.local, [...seen, name]) : [];
    const all = [...base, ...t.particles];
    flat.set(name, all);
    return all;
  };
  for (const name of raw.keys()) flatten(name);
  return { targetNamespace, qualified: schema.attrs['elementFormDefault'] === 'qualified', elements, types: flat };
}

function complexType(el: XmlElement, scope: Scope): { base?: QName; particles: Particle[] } {
  const content = el.children[0];
  if (content === undefined) return { particles: [] };
  if (content.name === 'sequence') return { particles: sequence(content, scope) };
  if (content.name === 'complexContent') {
    const ext = content.children[0];
    if (ext?.name !== 'extension' || content.children.length !== 1) throw new Error('complexContent other than one extension');
    const seq = ext.children[0];
    if (ext.children.length > 1 || (seq !== undefined && seq.name !== 'sequence')) throw new Error('extension other than one sequence');
    return { base: resolveQName(ext.attrs['base']!, scope), particles: seq ? sequence(seq, scope) : [] };
  }
  throw new Error(`complexType content <${content.qname}> is outside the checker's subset`);
}

function sequence(el: XmlElement, scope: Scope): Particle[] {
  return el.children.map((p) => {
    if (p.name !== 'element') throw new Error(`<${p.qname}> in a sequence is outside the checker's subset`);
    return { name: p.attrs['name']!, type: resolveQName(p.attrs['type']!, scope), min: occurs(p.attrs['minOccurs'], 1), max: occurs(p.attrs['maxOccurs'], 1) };
  });
}

const LEXICAL: Readonly<Record<string, RegExp>> = {
  string: /^[\s\S]*$/,
  boolean: /^(true|false|1|0)$/,
  int: /^[+-]?\d{1,10}$/,
  long: /^[+-]?\d{1,19}$/,
  dateTime: /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/,
  anyURI: /^\S*$/,
};

/**
 * Every problem of `xml`'s Body element (a whole SOAP envelope) against the
 * schema's global element of the same name; [] when it conforms.
 */
export function checkBody(schema: WsdlSchema, xml: string): string[] {
  const root = parseXml(xml);
  const rootScope = scopeOf(root, new Map());
  const body = root.children.find((c) => c.name === 'Body');
  const op = body?.children[0];
  if (body === undefined || op === undefined) return ['no Body element'];
  return checkGlobal(schema, op, scopeOf(body, rootScope));
}

/** Problems of one element against the global element declaration of its name. */
export function checkGlobal(schema: WsdlSchema, el: XmlElement, parentScope: Scope): string[] {
  const scope = scopeOf(el, parentScope);
  const problems: string[] = [];
  if (namespaceOf(el, scope) !== schema.targetNamespace) problems.push(`<${el.qname}> is not in ${schema.targetNamespace}`);
  const type = schema.elements.get(el.name);
  if (type === undefined) return [...problems, `no global element ${el.name}`];
  checkTyped(schema, { el, scope, type, path: el.name }, problems);
  return problems;
}

interface Typed {
  readonly el: XmlElement;
  readonly scope: Scope;
  readonly type: QName;
  readonly path: string;
}

function checkTyped(schema: WsdlSchema, t: Typed, problems: string[]): void {
  if (t.type.ns === XS) {
    if (t.el.children.length > 0) problems.push(`${t.path}: simple type ${t.type.local} holds elements`);
    const pattern = LEXICAL[t.type.local];
    if (pattern === undefined) throw new Error(`simple type xs:${t.type.local} is outside the checker's subset`);
    if (!pattern.test(t.type.local === 'string' ? t.el.text : t.el.text.trim())) problems.push(`${t.path}: "${t.el.text.slice(0, 40)}" is not an xs:${t.type.local}`);
    return;
  }
  const particles = schema.types.get(t.type.local);
  if (particles === undefined) throw new Error(`type ${t.type.local} is not defined`);
  const wantNs = schema.qualified ? schema.targetNamespace : '';
  const kids = t.el.children;
  let k = 0;
  for (const p of particles) {
    let count = 0;
    while (k < kids.length && kids[k]!.name === p.name && count < p.max) {
      const kid = kids[k]!;
      const kidScope = scopeOf(kid, t.scope);
      const ns = namespaceOf(kid, kidScope);
      const path = `${t.path}/${p.name}${p.max > 1 ? `[${count}]` : ''}`;
      if (ns !== wantNs) problems.push(`${path}: namespace "${ns}", the schema wants "${wantNs}" (elementFormDefault ${schema.qualified ? 'qualified' : 'unqualified'})`);
      checkTyped(schema, { el: kid, scope: kidScope, type: p.type, path }, problems);
      count++;
      k++;
    }
    if (count < p.min) problems.push(`${t.path}: ${p.name} is required (minOccurs ${p.min})`);
  }
  for (; k < kids.length; k++) problems.push(`${t.path}: <${kids[k]!.qname}> is not allowed here (unknown or out of sequence order)`);
}
