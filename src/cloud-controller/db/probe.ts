/**
 * `probePostgres`: does the PostgreSQL server of a DB URL answer right now
 * (connect + `SELECT 1`, bounded)? For `edgenet clc --check-config`, where a
 * server that is down is a warning, not an error (it may start after the
 * check). The connection is the CLI's (application_name edgenet-cli), so
 * in-use checks never count it as a CLC.
 */
import pg from 'pg';
import { errorMessage } from '../../shared/errors.ts';
import { clientConfig } from './postgres.ts';

/** Undefined when the server answered; otherwise why not. */
export async function probePostgres(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const client = new pg.Client(clientConfig({ url, application: 'edgenet-cli', connectTimeoutMs: timeoutMs }));
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return errorMessage(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
