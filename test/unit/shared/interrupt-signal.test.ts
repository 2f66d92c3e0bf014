/** interruptSignal: the non-daemon commands' SIGINT/SIGTERM wiring (src/shared/daemon/signals.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { interruptSignal } from '../../../src/shared/daemon/signals.ts';

test('interruptSignal aborts on SIGINT and on SIGTERM, follows its parent, and dispose removes every handler', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const target = new EventEmitter();
    const i = interruptSignal({ target: target as never });
    assert.equal(target.listenerCount(sig), 1);
    assert.equal(i.signal.aborted, false);
    target.emit('SIGHUP');
    assert.equal(i.signal.aborted, false, 'SIGHUP does not interrupt');
    target.emit(sig);
    assert.equal(i.signal.aborted, true, `${sig} interrupts`);
    i.dispose();
    assert.equal(target.listenerCount('SIGINT') + target.listenerCount('SIGTERM'), 0);
  }

  const parent = new AbortController();
  const target = new EventEmitter();
  const i = interruptSignal({ parent: parent.signal, target: target as never });
  parent.abort();
  assert.equal(i.signal.aborted, true, 'the parent aborting interrupts');
  i.dispose();

  const already = new AbortController();
  already.abort();
  const j = interruptSignal({ parent: already.signal, target: new EventEmitter() as never });
  assert.equal(j.signal.aborted, true, 'an aborted parent interrupts at once');
  j.dispose();
});
