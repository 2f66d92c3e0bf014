/**
 * Whether a process exists, by signal 0: EPERM (another user's process)
 * counts as existing. Only meaningful in the caller's pid namespace.
 */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
