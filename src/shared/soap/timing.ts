/**
 * Phase timing of one request through a hop (server side) or one call (client
 * side), for the logs the latency bench (`bench/hop.bench.ts`) reads.
 *
 * Model: a start instant and named marks in order; `phases()` gives each
 * mark's milliseconds since the previous one, `at(name)` its wall-clock time
 * in epoch milliseconds with sub-millisecond resolution (performance.timeOrigin
 * + performance.now(), comparable across processes on one host). Marks cost a
 * `performance.now()` call each; nothing here changes behaviour.
 */

export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

export class Timing {
  readonly startedAt: number;
  private readonly marks: { name: string; at: number }[] = [];

  constructor(startedAt = nowEpochMs()) {
    this.startedAt = startedAt;
  }

  mark(name: string): void {
    this.marks.push({ name, at: nowEpochMs() });
  }

  at(name: string): number | undefined {
    return this.marks.find((m) => m.name === name)?.at;
  }

  /** `{name: ms since the previous mark}`, rounded to 0.1 ms. */
  phases(): Record<string, number> {
    const out: Record<string, number> = {};
    let prev = this.startedAt;
    for (const m of this.marks) {
      out[m.name] = Math.round((m.at - prev) * 10) / 10;
      prev = m.at;
    }
    return out;
  }

  /**
   * Fields for a log line: the start instant and the phases as one string,
   * `"auth=0.2 body=11.3 …"` — in mark order (the JSON log format sorts object keys).
   */
  log(): { startedAt: number; phases: string } {
    const phases = Object.entries(this.phases()).map(([k, v]) => `${k}=${v}`).join(' ');
    return { startedAt: Math.round(this.startedAt * 10) / 10, phases };
  }
}
