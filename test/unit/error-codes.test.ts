/**
 * The error-code registry (src/shared/error-codes.ts) against the source:
 * every code in a code position of src/ is registered, every registered code
 * is used, edgenet's codes are SCREAMING_SNAKE_CASE and EC2's keep EC2's form,
 * and a code shared with a diagnostic registry is one of the reviewed few
 * that mean the same thing in both.
 *
 * Code positions (found with the TypeScript parser, not by wording): the code
 * argument of `new EdgenetError/UserError/SoapRequestError/XmlError/SoapFault`,
 * of `usageError`, `jsonError` and `faultEnvelope`; a `code:` property; a
 * literal compared with something named `…code`; the members of a `code`
 * property's literal union.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { EC2_ERROR_CODES, ERROR_CODES, isErrorCode, type ErrorCode } from '../../src/shared/error-codes.ts';
import type { RenderErrorCode } from '../../src/netd/render/types.ts';

// netd's render failures are error codes (tsc refuses this line if one is not registered).
const renderCodesAreRegistered: (c: RenderErrorCode) => ErrorCode = (c) => c;
void renderCodesAreRegistered;

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');
const REGISTRY_FILE = path.join(SRC, 'shared/error-codes.ts');

const EDGENET_FORM = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
/** PascalCase words with an optional `.Qualifier`, as EC2 spells them (InvalidGroup.NotFound). */
const EC2_FORM = /^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*(\.[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*)?$/;

/** Codes of other systems that edgenet only reads: Node errno, SQLite, commander, SOAP 1.1 faultcode. */
const FOREIGN = [/^E[A-Z]+$/, /^SQLITE_[A-Z_]+$/, /^commander\.[a-zA-Z]+$/, /^(Client|Server)$/, /^[0-9][0-9A-Z]{4}$/ /* PostgreSQL SQLSTATE */];

/**
 * Codes that are both an error code and a diagnostic code, reviewed to mean
 * the same thing in both (a daemon that fails to start on a missing CA reports
 * what `--check-config` reports).
 */
const SHARED_WITH_DIAGNOSTICS = [
  'CONFIG_BAD_VALUE',
  'CONFIG_UNREADABLE',
  'TLS_CA_MISSING',
  'TLS_CERT_MISSING',
  'TLS_KEY_MISSING',
  'TLS_KEY_PERMISSIONS',
  'TLS_UNREADABLE',
];

/** Diagnostic codes shared between two diagnostic registries, reviewed to mean the same thing. */
const SHARED_BETWEEN_DIAGNOSTICS = ['PRIVATE_IP_OUTSIDE_SUBNET'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** String literals an expression or type can evaluate to (conditionals, `??`, unions). */
function literals(n: ts.Node | undefined, acc: string[] = []): string[] {
  if (!n) return acc;
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) acc.push(n.text);
  else if (ts.isConditionalExpression(n)) [n.whenTrue, n.whenFalse].forEach((e) => literals(e, acc));
  else if (ts.isBinaryExpression(n) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(n.operatorToken.kind)) [n.left, n.right].forEach((e) => literals(e, acc));
  else if (ts.isParenthesizedExpression(n)) literals(n.expression, acc);
  else if (ts.isLiteralTypeNode(n)) literals(n.literal, acc);
  else if (ts.isUnionTypeNode(n)) n.types.forEach((t) => literals(t, acc));
  return acc;
}

interface Use {
  readonly code: string;
  /** A thrown or answered error code, which must be registered here (not only as a diagnostic). */
  readonly strict: boolean;
  readonly where: string;
}

const ERROR_CLASSES = new Set(['EdgenetError', 'UserError', 'SoapRequestError', 'XmlError']);
const CODE_FIRST_CALLS = new Set(['usageError', 'jsonError']);
const isCodeName = (n: ts.Node) => (ts.isIdentifier(n) && /code$/i.test(n.text)) || (ts.isPropertyAccessExpression(n) && /code$/i.test(n.name.text));

function codeUses(file: string): Use[] {
  const sf = parse(file);
  const uses: Use[] = [];
  const add = (n: ts.Node, codes: string[], strict: boolean) => {
    const where = `${path.relative(ROOT, file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    for (const code of codes) uses.push({ code, strict, where });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isNewExpression(n) && ts.isIdentifier(n.expression)) {
      if (ERROR_CLASSES.has(n.expression.text)) add(n, literals(n.arguments?.[0]), true);
      if (n.expression.text === 'SoapFault') add(n, literals(n.arguments?.[1]), true);
    }
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) {
      if (CODE_FIRST_CALLS.has(n.expression.text)) add(n, literals(n.arguments[0]), true);
      if (n.expression.text === 'faultEnvelope') add(n, literals(n.arguments[1]), true);
    }
    if (ts.isPropertyAssignment(n) && ts.isIdentifier(n.name) && /^(code|errorCode|statusErrorCode)$/.test(n.name.text)) add(n, literals(n.initializer), false);
    if (ts.isPropertySignature(n) && ts.isIdentifier(n.name) && /code$/i.test(n.name.text)) add(n, literals(n.type), false);
    if (ts.isBinaryExpression(n) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(n.operatorToken.kind)) {
      if (isCodeName(n.left)) add(n, literals(n.right), false);
      if (isCodeName(n.right)) add(n, literals(n.left), false);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return uses;
}

/** The string values of `export const NAME = {…}` (values) or its keys, or the literal members of `type NAME = …`. */
function registryCodes(file: string, name: string, take: 'keys' | 'values' | 'type'): string[] {
  const sf = parse(path.join(SRC, file));
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (take === 'type' && ts.isTypeAliasDeclaration(n) && n.name.text === name) literals(n.type, out);
    if (take !== 'type' && ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name && n.initializer) {
      let init: ts.Node = n.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
      if (ts.isObjectLiteralExpression(init)) {
        for (const p of init.properties) {
          if (!ts.isPropertyAssignment(p)) continue;
          if (take === 'keys') out.push(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : '');
          else literals(p.initializer, out);
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  assert.ok(out.length > 0, `${file}: ${name} not found or empty (moved? update this test)`);
  return out;
}

/** The diagnostic registries named in the header of src/shared/error-codes.ts. */
function diagnosticRegistries(): Map<string, Set<string>> {
  // The config registry is the object REGISTRY behind CONFIG_CODES.
  return new Map([
    ['cloud-controller/config/codes.ts', new Set(registryCodes('cloud-controller/config/codes.ts', 'REGISTRY', 'keys'))],
    ['shared/gni/codes.ts', new Set(registryCodes('shared/gni/codes.ts', 'GniCode', 'values'))],
    ['shared/config (checks, settings, conf-file)', new Set([
      ...registryCodes('shared/config/checks.ts', 'CHECK_CODES', 'values'),
      ...registryCodes('shared/config/settings.ts', 'SETTINGS_CODES', 'values'),
      ...registryCodes('shared/config/conf-file.ts', 'CONF_CODES', 'values'),
    ])],
    ['shared/gni/routed.ts (checkNodeBgp)', new Set(registryCodes('shared/gni/routed.ts', 'NodeBgpProblemCode', 'type'))],
    ['netd sanitize (sanitize.ts, routed-sanitize.ts, rule-check.ts)', new Set([
      ...registryCodes('netd/render/sanitize.ts', 'SanitizeCode', 'type'),
      ...registryCodes('netd/render/routed-sanitize.ts', 'RoutedSanitizeCode', 'type'),
      ...registryCodes('shared/gni/rule-check.ts', 'RuleRefusalCode', 'type'),
    ])],
  ]);
}

const edgenetCodes = Object.keys(ERROR_CODES);
const ec2Codes = Object.keys(EC2_ERROR_CODES);

test('edgenet codes are SCREAMING_SNAKE_CASE, EC2 codes keep EC2\'s form, and no code is in both lists', () => {
  assert.deepEqual(edgenetCodes.filter((c) => !EDGENET_FORM.test(c)), []);
  assert.deepEqual(ec2Codes.filter((c) => !EC2_FORM.test(c) || EDGENET_FORM.test(c)), []);
  assert.deepEqual(edgenetCodes.filter((c) => ec2Codes.includes(c)), []);
  for (const [code, meaning] of [...Object.entries(ERROR_CODES), ...Object.entries(EC2_ERROR_CODES)]) {
    assert.ok(meaning.trim().length > 10 && !meaning.includes('\n'), `${code}: a one-line description`);
  }
  // The checks above can fail: the forms tell the two vocabularies apart.
  assert.ok(!EDGENET_FORM.test('ClusterNotFound') && EC2_FORM.test('ClusterNotFound'));
  assert.ok(!EC2_FORM.test('CLUSTER_NOT_FOUND') && !EC2_FORM.test('clc-certificate-missing'));
});

test('isErrorCode accepts registered codes of both lists and nothing else', () => {
  assert.ok(isErrorCode('CLUSTER_NOT_FOUND') && isErrorCode('InvalidGroup.NotFound'));
  for (const other of ['ClusterNotFound', 'toString', '__proto__', 'GNI_MALFORMED', '', undefined, 42]) assert.equal(isErrorCode(other), false, String(other));
});

const uses = sourceFiles(SRC).filter((f) => f !== REGISTRY_FILE).flatMap(codeUses);

test('the scan finds the code positions it claims to (a guard against a scanner that finds nothing)', () => {
  const at = (code: string) => uses.filter((u) => u.code === code).map((u) => u.strict);
  assert.ok(at('CLUSTER_NOT_FOUND').includes(true), 'new UserError(...)');
  assert.ok(at('USAGE_ERROR').includes(true), 'jsonError(...)');
  assert.ok(at('STALE_SEQUENCE').length > 0, 'freshness verdict code');
  assert.ok(at('ENOENT').length > 0, 'errno comparisons are seen (and allowed as foreign)');
});

test('every error code thrown or answered in src/ is registered', () => {
  const unregistered = uses.filter((u) => u.strict && !isErrorCode(u.code));
  assert.deepEqual(unregistered.map((u) => `${u.code} (${u.where})`), []);
});

test('every code in a code position of src/ is registered here, in a diagnostic registry, or foreign', () => {
  const diagnostics = new Set([...diagnosticRegistries().values()].flatMap((s) => [...s]));
  const unknown = uses.filter((u) => !isErrorCode(u.code) && !diagnostics.has(u.code) && !FOREIGN.some((re) => re.test(u.code)));
  assert.deepEqual(unknown.map((u) => `${u.code} (${u.where})`), []);
});

test('the registry has no unused entry: every code appears as a literal in src/', () => {
  const text = sourceFiles(SRC).filter((f) => f !== REGISTRY_FILE).map((f) => readFileSync(f, 'utf8')).join('\n');
  const unused = [...edgenetCodes, ...ec2Codes].filter((c) => !text.includes(`'${c}'`));
  assert.deepEqual(unused, []);
});

test('a code in two registries is one of the reviewed few that mean the same in both', () => {
  const registries = diagnosticRegistries();
  const withErrors = [...registries.values()].flatMap((s) => [...s]).filter((c) => isErrorCode(c));
  assert.deepEqual([...new Set(withErrors)].sort(), [...SHARED_WITH_DIAGNOSTICS].sort());
  const names = [...registries.keys()];
  const between: string[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      for (const c of registries.get(names[i]!)!) if (registries.get(names[j]!)!.has(c)) between.push(c);
    }
  }
  assert.deepEqual(between.sort(), [...SHARED_BETWEEN_DIAGNOSTICS].sort());
});
