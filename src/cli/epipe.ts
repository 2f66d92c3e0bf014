/**
 * `edgenet … | head`: when the reader closes the pipe, writes fail with
 * EPIPE, emitted as an 'error' event that would crash the process with a stack
 * trace. The guard swallows that error, drops further output and tells the
 * caller once (main aborts the command's signal so a following command ends).
 * The command then ends with its own exit code, quietly.
 */
export interface GuardedStream {
  write(text: string): void;
  readonly closed: boolean;
  dispose(): void;
}

export function guardClosedStream(stream: NodeJS.WritableStream, onClosed: () => void): GuardedStream {
  let closed = false;
  const onError = (err: NodeJS.ErrnoException) => {
    // EPIPE first, then ERR_STREAM_DESTROYED for any write still queued: both mean "nobody reads".
    if (!closed) {
      closed = true;
      onClosed();
    }
    void err;
  };
  stream.on('error', onError);
  return {
    write(text: string) {
      if (closed) return;
      try {
        stream.write(text);
      } catch {
        onError(new Error('write failed') as NodeJS.ErrnoException);
      }
    },
    get closed() {
      return closed;
    },
    dispose() {
      // Keep swallowing: an EPIPE can still arrive after main returned, for a write it made.
      if (closed) return;
      stream.off('error', onError);
      if (!stream.listeners('error').includes(lateError)) stream.on('error', lateError);
    },
  };
}

function lateError(): void {
  // Deliberately empty: see dispose().
}
