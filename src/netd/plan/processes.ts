/**
 * Plans the supervised processes (dhcpd, ...), the same way for every kind:
 * a process that must run gets its changed files written, then is started
 * when it is not running, or reloaded/restarted (its ReloadPolicy) when a file
 * changed; a process that must not run, or whose kind the desired state no
 * longer lists, is stopped. An unchanged file and a live process plan nothing.
 * A file whose content is right but whose permission bits are not (ProcessFile.mode)
 * is written again without a reload.
 * Pure: the pid, file contents and modes come from ObservedState.processes.
 */
import type { SupervisedProcess } from '../render/types.ts';
import type { ObservedProcess } from './observed.ts';
import type { Step } from './steps.ts';

export function planProcesses(desired: readonly SupervisedProcess[], observed: ReadonlyMap<string, ObservedProcess>): Step[] {
  const steps: Step[] = [];
  for (const p of desired) {
    const seen = observed.get(p.kind);
    const running = seen?.pid;
    if (!p.run) {
      if (running !== undefined) steps.push({ kind: 'process-stop', process: p.kind, pid: running });
      continue;
    }
    const changed = p.files.filter((f) => seen?.files.get(f.name) !== f.content);
    // Same content, other permission bits (bird.conf written 0644 before it carried a mode): written
    // again with its mode, which the process need not be told about (no reload for it alone).
    const modeOnly = p.files.filter((f) => !changed.includes(f) && f.mode !== undefined && seen?.modes?.get(f.name) !== f.mode);
    if (changed.length + modeOnly.length > 0) steps.push({ kind: 'process-write-config', process: p.kind, files: [...changed, ...modeOnly] });
    if (running === undefined) steps.push({ kind: 'process-start', process: p.kind, interfaces: p.interfaces });
    else if (changed.length > 0) {
      steps.push(
        p.reload.kind === 'restart'
          ? { kind: 'process-restart', process: p.kind, interfaces: p.interfaces, pid: running }
          : { kind: 'process-reload', process: p.kind, pid: running, signal: p.reload.signal },
      );
    }
  }
  // A kind the desired state does not list (another mode's daemon, say) must not keep running.
  const listed = new Set(desired.map((p) => p.kind));
  for (const [kind, seen] of [...observed].sort(([a], [b]) => a.localeCompare(b))) {
    if (!listed.has(kind) && seen.pid !== undefined) steps.push({ kind: 'process-stop', process: kind, pid: seen.pid });
  }
  return steps;
}
