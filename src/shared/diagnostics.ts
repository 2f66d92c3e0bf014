/**
 * Validation results. Validators return every problem they find, never only the
 * first: `{ok: true, value}` or `{ok: false, diagnostics}`. Each diagnostic has a
 * stable `code` from a registry owned by the validator's module, a `path` in
 * the document's own notation (`Clusters[0].Subnet.Gateway`, `""` for the
 * whole document) and a human message. Tests assert codes and paths.
 */

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

export type Validated<T> =
  | { readonly ok: true; readonly value: T; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Joins path segments: joinPath('Clusters', 0, 'Subnet') → "Clusters[0].Subnet". */
export function joinPath(...segments: (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (s !== '') out += out === '' ? s : `.${s}`;
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.path === '' ? '(document)' : d.path}: ${d.code}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
