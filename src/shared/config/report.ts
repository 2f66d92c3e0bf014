/**
 * What `edgenet <daemon> --check-config` prints: every setting in effect with
 * where it came from, then every problem. Text for people, `--json` for
 * scripts: {daemon, ok, settings: [{key, env, value, source, origin}],
 * problems: [{severity, code, key, message}]}.
 */
import type { Diagnostic } from '../diagnostics.ts';
import { hasErrors } from '../diagnostics.ts';
import type { DaemonName, EffectiveSetting } from './settings.ts';

export interface ConfigReport {
  readonly daemon: DaemonName;
  readonly ok: boolean;
  readonly settings: readonly EffectiveSetting[];
  readonly problems: readonly { severity: string; code: string; key: string; message: string }[];
}

export function configReport(daemon: DaemonName, settings: readonly EffectiveSetting[], diagnostics: readonly Diagnostic[]): ConfigReport {
  return {
    daemon,
    ok: !hasErrors(diagnostics),
    settings,
    problems: diagnostics.map((d) => ({ severity: d.severity, code: d.code, key: d.path, message: d.message })),
  };
}

export function formatConfigReport(r: ConfigReport): string {
  const keyW = Math.max(3, ...r.settings.map((s) => s.key.length));
  const valW = Math.min(48, Math.max(5, ...r.settings.map((s) => JSON.stringify(s.value).length)));
  const lines = [`edgenet ${r.daemon}: effective configuration (flag > environment > file > default)`, ''];
  lines.push(`${'KEY'.padEnd(keyW)}  ${'VALUE'.padEnd(valW)}  FROM`);
  for (const s of r.settings) lines.push(`${s.key.padEnd(keyW)}  ${JSON.stringify(s.value).padEnd(valW)}  ${s.origin}`);
  lines.push('');
  if (r.problems.length === 0) lines.push('no problems found');
  else {
    lines.push(`${r.problems.length} problem(s):`);
    for (const p of r.problems) lines.push(`  ${p.severity}: ${p.key}: ${p.code}: ${p.message}`);
  }
  lines.push('', r.ok ? 'configuration OK' : 'configuration has errors (a daemon started with it exits 2)');
  return lines.join('\n');
}
