/**
 * Lists exports of src/ files that no other file of the program (src, test,
 * bench, scripts: tsconfig.json's files) imports, with the TypeScript
 * compiler API (no extra dependency):
 *
 *   node test/helpers/dead-exports.mjs
 *
 * "(DEAD)": not used anywhere, delete it; "(used in its own file)": drop the
 * `export`. Conservative: a namespace import (`import * as`), `export *` or a
 * dynamic `import()` of a module counts every export of it as used; `main`
 * (program entry points) is never listed. Types that appear in an exported
 * signature are listed too: keep those exported.
 */
import ts from 'typescript';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const cfgPath = path.join(root, 'tsconfig.json');
const cfg = ts.getParsedCommandLineOfConfigFile(cfgPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
const program = ts.createProgram(cfg.fileNames, cfg.options);
const checker = program.getTypeChecker();
const used = new Set(); // symbols (original) used from another file
const wholeModule = new Set(); // files whose every export counts as used (namespace import, dynamic import)
const resolve = (s) => (s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
const files = program.getSourceFiles().filter((f) => !f.isDeclarationFile && f.fileName.startsWith(root) && !f.fileName.includes('node_modules'));
const moduleFile = (spec, from) => {
  const r = ts.resolveModuleName(spec, from.fileName, cfg.options, ts.sys).resolvedModule;
  return r?.resolvedFileName;
};
for (const f of files) {
  const visit = (n) => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) {
      const spec = n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier) ? n.moduleSpecifier.text : undefined;
      if (spec) {
        const target = moduleFile(spec, f);
        const clause = ts.isImportDeclaration(n) ? n.importClause : undefined;
        if (ts.isImportDeclaration(n)) {
          if (clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings) && target) wholeModule.add(target);
          if (clause?.name) used.add(resolve(checker.getSymbolAtLocation(clause.name)));
          if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings)) for (const e of clause.namedBindings.elements) used.add(resolve(checker.getSymbolAtLocation(e.name)));
        } else {
          if (!n.exportClause && target) wholeModule.add(target); // export * from
          if (n.exportClause && ts.isNamedExports(n.exportClause)) for (const e of n.exportClause.elements) {
            const s = checker.getExportSpecifierLocalTargetSymbol(e);
            used.add(resolve(s));
          }
        }
      }
    }
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) {
      const target = moduleFile(n.arguments[0].text, f);
      if (target) wholeModule.add(target);
    }
    ts.forEachChild(n, visit);
  };
  visit(f);
}
const out = [];
for (const f of files) {
  const rel = path.relative(root, f.fileName);
  if (!rel.startsWith('src/')) continue;
  if (wholeModule.has(f.fileName)) continue;
  const sym = checker.getSymbolAtLocation(f);
  if (!sym) continue;
  for (const e of checker.getExportsOfModule(sym)) {
    const orig = resolve(e);
    if (used.has(orig) || used.has(e)) continue;
    if (e.name === 'main' || e.name === 'default') continue;
    // re-exported from elsewhere: skip if this file re-exports (declared in other file)
    const decl = orig.declarations?.[0];
    const declFile = decl?.getSourceFile().fileName;
    if (declFile !== f.fileName) continue;
    // local use?
    let localUses = 0;
    const name = e.name;
    const visit = (n) => {
      if (ts.isIdentifier(n) && n.text === name) {
        const s = checker.getSymbolAtLocation(n);
        if (s && (s === orig || resolve(s) === orig) && !(n.parent && ts.isDeclaration?.(n.parent) && n.parent.name === n)) localUses++;
      }
      ts.forEachChild(n, visit);
    };
    visit(f);
    const line = decl ? f.getLineAndCharacterOfPosition(decl.getStart()).line + 1 : 0;
    const isType = !!(orig.flags & (ts.SymbolFlags.Type) && !(orig.flags & ts.SymbolFlags.Value));
    out.push(`${rel}:${line} ${isType ? "type " : "value "}${name}${localUses > 0 ? '  (used in its own file: unexport)' : '  (DEAD)'}`);
  }
}
console.log(out.sort().join('\n'));
