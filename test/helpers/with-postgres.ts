/**
 * Runs a command with one throwaway PostgreSQL server for all its processes:
 *
 *   node --import tsx test/helpers/with-postgres.ts -- node --import tsx --test FILES…
 *
 * Starts a server (postgres.ts startPostgres), runs the command with
 * EDGENET_TEST_PG_URL naming it — every test process's sharedPostgres()
 * attaches to it instead of initdb-ing its own — and stops and removes the
 * server when the command ends, also when this runner is interrupted.
 * Exits with the command's status. scripts/test.sh's unit-postgres phase.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { SHARED_SERVER_ENV, startPostgres } from './postgres.ts';

const sep = process.argv.indexOf('--');
const command = sep < 0 ? process.argv.slice(2) : process.argv.slice(sep + 1);
if (command.length === 0) {
  process.stderr.write('usage: with-postgres.ts -- COMMAND [ARGS…]\n');
  process.exit(2);
}
const server = await startPostgres();
const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, [SHARED_SERVER_ENV]: server.url() } });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  process.stderr.write(`with-postgres: cannot run ${command[0]}: ${err.message}\n`);
  server.stop();
  process.exit(127);
});
child.on('exit', (code, signal) => {
  server.stop();
  process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
});
