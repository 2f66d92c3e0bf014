/**
 * The layering of src/, as data, and the pure checker that holds an import
 * graph (test/helpers/import-graph.ts) against it. test/unit/architecture.test.ts
 * runs it on the real tree and on hand-made bad graphs.
 *
 * Paths are relative to src/. A pattern is a folder ('netd/plan': the files
 * directly in it), a subtree ('shared/**'), one file ('netd/names.ts') or `**`
 * (everything); 'type:' in front allows only `import type` of it.
 *
 * Rules:
 * - layers: every folder that holds a .ts file is a key of LAYERS (a new folder
 *   is an error until someone decides where it sits); a file may import its own
 *   folder and what its folder's entry lists, nothing else.
 * - forbidden: edges that stay wrong even if someone widens LAYERS, each with
 *   its reason (the programs talk over SOAP and files, not imports; cli and lab
 *   are the top; the rule model sits below render; apply sits below the sync).
 * - cycles: no import cycle between files, type-only and dynamic imports included.
 * - purity: files in PURE folders import no I/O module and touch no ambient
 *   state (environment, clock, randomness), and no runtime import leads them,
 *   through other folders, to a file that does. node:crypto stays allowed
 *   (fingerprints hash).
 * - owners: a few packages are imported by one module only (the Exec seam owns
 *   child processes, db/ owns SQLite, the watcher owns chokidar).
 */
import type { ImportEdge, ImportGraph, SourceFacts } from './import-graph.ts';

/** Folder → what its files may import besides their own folder. */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  // shared: the bottom; it imports nothing outside shared. Its root holds leaf
  // utilities (errors, clock, exec, files, logger, ...); its folders build on
  // them. shared/ip is IP arithmetic for both families; shared/ip.ts re-exports it.
  'shared': ['shared/ip'],
  'shared/ip': ['shared'],
  'shared/gni': ['shared'],
  'shared/config': ['shared'],
  'shared/daemon': ['shared', 'shared/config'],
  'shared/tls': ['shared'],
  'shared/soap': ['shared', 'shared/tls', 'shared/config'],

  // netd, bottom to top: the rule model, render and its modes, plan, apply,
  // then netd's root (the sync orchestrator sync.ts, the daemon, config,
  // names). netd/names.ts is the fixed-names module everyone may read; render
  // and the modes see netd's config only as a type.
  'netd/netfilter': ['shared'],
  'netd/render': ['shared', 'shared/gni', 'netd/netfilter', 'netd/modes', 'netd/names.ts', 'type:netd/config.ts'],
  'netd/modes': ['shared', 'shared/gni', 'netd/netfilter', 'netd/render', 'netd/names.ts', 'type:netd/config.ts'],
  'netd/plan': ['shared', 'netd/netfilter', 'netd/render', 'netd/names.ts'],
  'netd/apply': ['shared', 'netd/netfilter', 'netd/plan', 'netd/render', 'netd/names.ts', 'netd/config.ts'],
  'netd': ['shared/**', 'netd/**'],

  // The two SOAP daemons: shared only (what they have in common lives there).
  'node-controller': ['shared/**'],
  'cluster-controller': ['shared/**'],

  // The cloud controller, bottom to top: the property's validation (config),
  // the modes that build on it, the store (db), properties, the snapshot
  // reader, services, the GNI builder, the broadcaster. Its root holds
  // contracts.ts (the types every part shares) and the composition (main, context, plugins).
  'cloud-controller/config': ['shared', 'shared/gni', '../schemas/**'],
  'cloud-controller/modes': ['shared', 'shared/gni', 'cloud-controller/config', 'cloud-controller/contracts.ts'],
  'cloud-controller/db': ['shared', 'cloud-controller/contracts.ts'],
  'cloud-controller/properties': ['shared', 'cloud-controller/config', 'cloud-controller/modes', 'cloud-controller/db'],
  'cloud-controller/snapshot': ['shared', 'cloud-controller/config', 'cloud-controller/db', 'cloud-controller/properties', 'cloud-controller/contracts.ts'],
  'cloud-controller/services': [
    'shared', 'cloud-controller/config', 'cloud-controller/modes', 'cloud-controller/db', 'cloud-controller/properties',
    'cloud-controller/snapshot', 'cloud-controller/contracts.ts',
  ],
  'cloud-controller/gni': ['shared', 'shared/gni', 'cloud-controller/config', 'cloud-controller/modes', 'cloud-controller/contracts.ts'],
  'cloud-controller/broadcast': [
    'shared', 'shared/gni', 'shared/soap', 'shared/tls', 'cloud-controller/gni', 'cloud-controller/snapshot', 'cloud-controller/contracts.ts',
  ],
  // Importing a Eucalyptus cloud's state: reads a GNI model, writes through the services in one transaction,
  // and previews the document the CLC will build from it (snapshot + gni builder).
  'cloud-controller/import': [
    'shared', 'shared/gni', 'cloud-controller/config', 'cloud-controller/db', 'cloud-controller/properties', 'cloud-controller/services',
    'cloud-controller/snapshot', 'cloud-controller/gni', 'cloud-controller/contracts.ts',
  ],
  // config/: the one function that computes an instance's IPv6 address (config/instance-ipv6.ts).
  'cloud-controller/metadata': ['shared', 'cloud-controller/contracts.ts', 'cloud-controller/config'],
  'cloud-controller/ha': ['shared', 'cloud-controller/contracts.ts', 'cloud-controller/db'],
  'cloud-controller/api': ['shared', 'cloud-controller/contracts.ts', 'cloud-controller/properties', 'cloud-controller/services'],
  // The EC2 Query endpoint (issue 15): a second front door to the same services as the admin API.
  'cloud-controller/ec2': ['shared', 'cloud-controller/contracts.ts', 'cloud-controller/properties', 'cloud-controller/services', 'cloud-controller/ec2/actions'],
  // Its actions (one file per resource) translate EC2 parameters into service calls; ec2/ holds their contract and parameter helpers.
  'cloud-controller/ec2/actions': ['shared', 'cloud-controller/contracts.ts', 'cloud-controller/properties', 'cloud-controller/services', 'cloud-controller/ec2'],
  'cloud-controller': ['shared/**', 'cloud-controller/**'],

  // The top: the lab composes the programs in namespaces; the CLI calls everything, the lab included.
  'lab': ['shared/**', 'cloud-controller/**', 'cluster-controller', 'node-controller', 'netd/**'],
  'cli': ['shared/**', 'cloud-controller/**', 'cluster-controller', 'node-controller', 'netd/**', 'lab', 'cli/**'],
  'cli/commands': ['shared/**', 'cloud-controller/**', 'cluster-controller', 'node-controller', 'netd/**', 'lab', 'cli/**'],
};

export interface ForbiddenEdge {
  readonly from: readonly string[];
  /** Files of `from` that the rule does not cover. */
  readonly unless?: readonly string[];
  readonly to: readonly string[];
  readonly why: string;
}

const PROGRAMS = ['cloud-controller/**', 'cluster-controller/**', 'node-controller/**', 'netd/**'] as const;

/** Edges that stay forbidden whatever LAYERS says. */
export const FORBIDDEN: readonly ForbiddenEdge[] = [
  { from: ['shared/**'], to: [...PROGRAMS, 'lab/**', 'cli/**'], why: 'shared imports nothing outside shared' },
  { from: ['netd/**'], to: ['cloud-controller/**', 'cluster-controller/**', 'node-controller/**'], why: 'netd hears from the NC only through the shared file' },
  { from: ['cloud-controller/**'], to: ['cluster-controller/**', 'node-controller/**', 'netd/**'], why: 'the programs talk over SOAP and files; what they share lives in src/shared' },
  { from: ['cluster-controller/**'], to: ['cloud-controller/**', 'node-controller/**', 'netd/**'], why: 'the programs talk over SOAP and files; what they share lives in src/shared' },
  { from: ['node-controller/**'], to: ['cloud-controller/**', 'cluster-controller/**', 'netd/**'], why: 'the programs talk over SOAP and files; what they share lives in src/shared' },
  { from: ['**'], unless: ['cli/**'], to: ['cli/**'], why: 'the CLI is the top: nothing imports it (the lab gets what it needs from the CLI as arguments)' },
  { from: ['**'], unless: ['cli/**', 'lab/**'], to: ['lab/**'], why: 'the lab is the top next to the CLI' },
  { from: ['netd/netfilter/**'], to: ['netd/render/**', 'netd/modes/**', 'netd/plan/**', 'netd/apply/**'], why: 'the rule model and its writers sit below render, plan and apply' },
  { from: ['netd/render/**', 'netd/modes/**', 'netd/plan/**'], to: ['netd/apply/**', 'netd/sync/**', 'netd/sync.ts'], why: 'render and plan are pure; effects belong to apply' },
  { from: ['netd/apply/**'], to: ['netd/sync/**', 'netd/sync.ts', 'netd/daemon.ts', 'netd/main.ts'], why: 'apply performs steps; the sync orchestrator above it decides when' },
];

/** Folders (with their subfolders) whose code is pure: data in, data out. */
export const PURE: readonly string[] = ['netd/render', 'netd/plan', 'netd/modes', 'netd/netfilter', 'shared/gni', 'shared/ip'];

/** Modules that do I/O; a pure folder may not reach them. */
export const IO_MODULES: readonly string[] = [
  'node:fs', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:http2', 'node:dgram', 'node:tls', 'node:dns',
  'node:os', 'node:worker_threads', 'node:cluster', 'execa', 'chokidar', 'soap', 'better-sqlite3', 'kysely', 'winston',
];

/** Module → the only places that may import it. */
export const OWNERS: Readonly<Record<string, readonly string[]>> = {
  // exec.ts (execa) and spawner.ts (the /bin/sh coprocess netd's daemon runs its commands through).
  'node:child_process': ['shared/exec.ts', 'shared/spawner.ts'],
  'execa': ['shared/exec.ts'],
  'better-sqlite3': ['cloud-controller/db/**'],
  // The PostgreSQL driver: the store's pool and notification listener (db/), leadership's lock session (ha/).
  'pg': ['cloud-controller/db/**', 'cloud-controller/ha/**'],
  'chokidar': ['netd/watcher.ts'],
};

export interface ArchitectureRules {
  readonly layers: Readonly<Record<string, readonly string[]>>;
  readonly forbidden: readonly ForbiddenEdge[];
  readonly pure: readonly string[];
  readonly ioModules: readonly string[];
  readonly owners: Readonly<Record<string, readonly string[]>>;
}

export const RULES: ArchitectureRules = { layers: LAYERS, forbidden: FORBIDDEN, pure: PURE, ioModules: IO_MODULES, owners: OWNERS };

export type RuleName = 'unknown-folder' | 'layers' | 'forbidden' | 'cycle' | 'purity' | 'owner' | 'computed-import';

export interface Violation {
  readonly rule: RuleName;
  /** The file that breaks the rule (relative to src/). */
  readonly file: string;
  /** The import, as written, when one is to blame. */
  readonly specifier?: string;
  readonly message: string;
}

/** Every way `graph` breaks `rules`, sorted by file; empty when it keeps them. */
export function checkArchitecture(graph: ImportGraph, rules: ArchitectureRules = RULES): Violation[] {
  const files = new Map(graph.map((f) => [f.path, f]));
  const out: Violation[] = [
    ...checkFolders(graph, rules),
    ...graph.flatMap((f) => f.imports.flatMap((e) => checkEdge(f, e, rules))),
    ...checkCycles(files),
    ...checkPurity(files, rules),
  ];
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** One violation per line, for assertion messages. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  [${v.rule}] ${v.message}`).join('\n');
}

function checkFolders(graph: ImportGraph, rules: ArchitectureRules): Violation[] {
  const seen = new Set<string>();
  const out: Violation[] = [];
  for (const f of graph) {
    const folder = folderOf(f.path);
    if (folder in rules.layers || seen.has(folder)) continue;
    seen.add(folder);
    out.push({ rule: 'unknown-folder', file: f.path, message: `${f.path}: folder src/${folder} is not in LAYERS (test/helpers/architecture.ts); add it with the folders it may import` });
  }
  return out;
}

function checkEdge(f: SourceFacts, e: ImportEdge, rules: ArchitectureRules): Violation[] {
  const at = `${f.path}:${e.line}`;
  if (e.target === undefined) {
    return [{ rule: 'computed-import', file: f.path, specifier: e.specifier, message: `${at}: a dynamic import of a computed name; the architecture test cannot see where it leads (import a literal path)` }];
  }
  const out: Violation[] = [];
  if (!e.relative) {
    const owners = Object.entries(rules.owners).find(([m]) => sameModule(e.target!, m));
    if (owners && !owners[1].some((p) => matches(p, f.path))) {
      out.push({ rule: 'owner', file: f.path, specifier: e.specifier, message: `${at} imports '${e.specifier}': only ${owners[1].join(', ')} may import ${owners[0]}` });
    }
    return out;
  }
  const target = e.target;
  for (const rule of rules.forbidden) {
    if (rule.from.some((p) => matches(p, f.path)) && !(rule.unless ?? []).some((p) => matches(p, f.path)) && rule.to.some((p) => matches(p, target))) {
      out.push({ rule: 'forbidden', file: f.path, specifier: e.specifier, message: `${at} imports '${e.specifier}' (${target}): ${rule.why}` });
    }
  }
  const folder = folderOf(f.path);
  const allowed = rules.layers[folder];
  if (allowed !== undefined && folderOf(target) !== folder && !allowed.some((p) => allows(p, target, e.typeOnly))) {
    out.push({
      rule: 'layers',
      file: f.path,
      specifier: e.specifier,
      message: `${at} imports '${e.specifier}' (${target}${e.typeOnly ? ', type only' : ''}): src/${folder} may import ${allowed.length ? allowed.join(', ') : 'only its own folder'}`,
    });
  }
  return out;
}

function checkCycles(files: ReadonlyMap<string, SourceFacts>): Violation[] {
  const next = (p: string) => [...new Set((files.get(p)?.imports ?? []).filter((e) => e.relative && e.target !== undefined && files.has(e.target)).map((e) => e.target!))].sort();
  return stronglyConnected([...files.keys()].sort(), next)
    .filter((scc) => scc.length > 1 || next(scc[0]!).includes(scc[0]!))
    .map((scc) => {
      const start = [...scc].sort()[0]!;
      const cycle = shortestCycle(start, new Set(scc), next);
      const hops = cycle.slice(0, -1).map((p, i) => {
        const e = files.get(p)!.imports.find((x) => x.target === cycle[i + 1])!;
        return `${p}:${e.line} → ${cycle[i + 1]}`;
      });
      return { rule: 'cycle' as const, file: start, message: `import cycle: ${hops.join(', ')}${scc.length > cycle.length - 1 ? ` (${scc.length} files in the loop: ${[...scc].sort().join(', ')})` : ''}` };
    });
}

/**
 * A pure file may not import an I/O module or touch ambient state, and no
 * runtime import may lead it to a file outside the pure folders that does;
 * such an edge is reported once, with the path to the effect.
 */
function checkPurity(files: ReadonlyMap<string, SourceFacts>, rules: ArchitectureRules): Violation[] {
  const isPure = (p: string) => rules.pure.some((folder) => matches(`${folder}/**`, p));
  const pureOf = (p: string) => rules.pure.find((folder) => matches(`${folder}/**`, p))!;
  const direct = (f: SourceFacts): string | undefined => {
    const io = f.imports.find((e) => !e.relative && !e.typeOnly && e.target !== undefined && rules.ioModules.some((m) => sameModule(e.target!, m)));
    if (io) return `imports ${io.target} (line ${io.line})`;
    const a = f.ambient[0];
    return a ? `uses ${a.name} (line ${a.line})` : undefined;
  };
  const runtimeNext = (p: string) => (files.get(p)?.imports ?? []).filter((e) => e.relative && !e.typeOnly && e.target !== undefined && files.has(e.target));
  // First effect reachable from a file through runtime imports, with the path to it.
  const reach = new Map<string, { path: string[]; effect: string } | null>();
  const effectFrom = (start: string): { path: string[]; effect: string } | null => {
    if (reach.has(start)) return reach.get(start)!;
    const parent = new Map<string, string | undefined>([[start, undefined]]);
    const queue = [start];
    let found: { path: string[]; effect: string } | null = null;
    while (queue.length && !found) {
      const p = queue.shift()!;
      const effect = direct(files.get(p)!);
      if (effect) {
        const path: string[] = [];
        for (let q: string | undefined = p; q !== undefined; q = parent.get(q)) path.unshift(q);
        found = { path, effect };
        break;
      }
      for (const e of runtimeNext(p)) if (!parent.has(e.target!)) parent.set(e.target!, p), queue.push(e.target!);
    }
    reach.set(start, found);
    return found;
  };

  const out: Violation[] = [];
  for (const f of files.values()) {
    if (!isPure(f.path)) continue;
    const folder = pureOf(f.path);
    for (const e of f.imports) {
      if (!e.relative && !e.typeOnly && e.target !== undefined && rules.ioModules.some((m) => sameModule(e.target!, m))) {
        out.push({ rule: 'purity', file: f.path, specifier: e.specifier, message: `${f.path}:${e.line} imports '${e.specifier}': src/${folder} is pure (no I/O)` });
      }
    }
    for (const a of f.ambient) {
      out.push({ rule: 'purity', file: f.path, message: `${f.path}:${a.line} uses ${a.name}: src/${folder} is pure (no environment, clock or randomness; take it as an argument)` });
    }
    for (const e of runtimeNext(f.path)) {
      if (isPure(e.target!)) continue;
      const found = effectFrom(e.target!);
      if (found) {
        out.push({
          rule: 'purity',
          file: f.path,
          specifier: e.specifier,
          message: `${f.path}:${e.line} imports '${e.specifier}', which reaches an effect: ${[f.path, ...found.path].join(' → ')} ${found.effect}; src/${folder} is pure (import the type only, or move the pure part)`,
        });
      }
    }
  }
  return out;
}

function stronglyConnected(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  // Tarjan's algorithm, iterative so a long import chain cannot overflow the stack.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  for (const root of nodes) {
    if (idx.has(root)) continue;
    const work: { node: string; edges: readonly string[]; i: number }[] = [];
    const open = (n: string) => {
      idx.set(n, index), low.set(n, index), index++;
      stack.push(n), onStack.add(n);
      work.push({ node: n, edges: next(n), i: 0 });
    };
    open(root);
    while (work.length) {
      const top = work[work.length - 1]!;
      if (top.i < top.edges.length) {
        const m = top.edges[top.i++]!;
        if (!idx.has(m)) open(m);
        else if (onStack.has(m)) low.set(top.node, Math.min(low.get(top.node)!, idx.get(m)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === idx.get(top.node)) {
        const scc: string[] = [];
        let m: string;
        do {
          m = stack.pop()!;
          onStack.delete(m);
          scc.push(m);
        } while (m !== top.node);
        out.push(scc);
      }
    }
  }
  return out;
}

/** The shortest path start → … → start inside `within` (breadth-first). */
function shortestCycle(start: string, within: ReadonlySet<string>, next: (n: string) => readonly string[]): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const p = queue.shift()!;
    for (const m of next(p)) {
      if (!within.has(m)) continue;
      if (m === start) {
        const path = [start];
        for (let q = p; q !== start; q = parent.get(q)!) path.unshift(q);
        return [start, ...path];
      }
      if (!parent.has(m)) parent.set(m, p), queue.push(m);
    }
  }
  return [start, start];
}

function folderOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : p.slice(0, i);
}

function matches(pattern: string, file: string): boolean {
  if (pattern === '**') return true;
  if (pattern.endsWith('/**')) {
    const base = pattern.slice(0, -3);
    return file.startsWith(`${base}/`);
  }
  if (/\.[a-z]+$/.test(pattern)) return file === pattern;
  return folderOf(file) === pattern;
}

function allows(pattern: string, target: string, typeOnly: boolean): boolean {
  if (pattern.startsWith('type:')) return typeOnly && matches(pattern.slice(5), target);
  return matches(pattern, target);
}

/** `node:fs/promises` is `node:fs`; `ajv/dist/2020.js` is `ajv`. */
function sameModule(id: string, module: string): boolean {
  return id === module || id.startsWith(`${module}/`);
}
