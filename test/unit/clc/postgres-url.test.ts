/**
 * A PostgreSQL DB URL's password never leaves in argv or output: redacted in
 * what is printed (db/location.ts), moved to PGPASSWORD for pg_dump and psql
 * (db/backup-postgres.ts), whether it is in the user info or libpq's
 * `password` query parameter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactLocation } from '../../../src/cloud-controller/db/location.ts';
import { libpqTarget } from '../../../src/cloud-controller/db/backup-postgres.ts';

test('libpqTarget: the password (user info or ?password=) goes to PGPASSWORD, never into the dbname argument', () => {
  const inUserInfo = libpqTarget('postgres://edgenet:s%40cret@db.example:5432/edgenet');
  assert.equal(inUserInfo.dbname, 'postgres://edgenet@db.example:5432/edgenet');
  assert.equal(inUserInfo.env.PGPASSWORD, 's@cret');
  const inQuery = libpqTarget('postgres://edgenet@db.example/edgenet?sslmode=require&password=s3cret');
  assert.equal(inQuery.dbname, 'postgres://edgenet@db.example/edgenet?sslmode=require');
  assert.equal(inQuery.env.PGPASSWORD, 's3cret');
  const none = libpqTarget('postgres:///edgenet?host=/run/postgresql');
  assert.equal(none.dbname, 'postgres:///edgenet?host=/run/postgresql');
  assert.equal(none.env.PGPASSWORD, undefined);
  assert.equal(none.env.PGAPPNAME, 'edgenet-cli');
});

test('redactLocation: both spellings of a password are shown as ***; SQLite paths unchanged', () => {
  assert.equal(redactLocation('postgres://edgenet:s3cret@db.example/edgenet'), 'postgres://edgenet:***@db.example/edgenet');
  assert.doesNotMatch(redactLocation('postgresql://edgenet@db.example/edgenet?password=s3cret'), /s3cret/);
  assert.equal(redactLocation('/var/lib/edgenet/clc/clc.db'), '/var/lib/edgenet/clc/clc.db');
});
