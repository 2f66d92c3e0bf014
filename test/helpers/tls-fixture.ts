/**
 * A throwaway CA with one certificate per role (`clc1`, `cc1`, `nc1`, for
 * 127.0.0.1), made before a test file's tests and removed after them. The
 * returned object is filled in by the `before` hook.
 */
import { before, after } from 'node:test';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { initCa, issueCert } from '../../src/shared/tls/certs.ts';
import { loadTlsMaterial, type Role, type TlsMaterial } from '../../src/shared/tls/material.ts';
import { createExec } from '../../src/shared/exec.ts';

export interface TlsFixture {
  /** The certificate directory (ca.crt, <role>1.crt, <role>1.key). */
  dir: string;
  readonly material: Record<Role, TlsMaterial>;
}

export function tlsFixture(prefix: string): TlsFixture {
  const fixture: TlsFixture = { dir: '', material: {} as Record<Role, TlsMaterial> };
  before(async () => {
    fixture.dir = mkdtempSync(path.join(tmpdir(), prefix));
    const exec = createExec();
    await initCa(exec, fixture.dir);
    for (const role of ['clc', 'cc', 'nc'] as const) {
      await issueCert(exec, { dir: fixture.dir, name: `${role}1`, role, ips: ['127.0.0.1'], dnsNames: [] });
      fixture.material[role] = loadTlsMaterial(fixture.dir, `${role}1`);
    }
  });
  after(async () => {
    if (fixture.dir) await fs.rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
