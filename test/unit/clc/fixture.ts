/**
 * Test fixture for the CLC unit tests: an in-memory store (a fresh
 * PostgreSQL database under EDGENET_TEST_DB=postgres) with a fake clock
 * and deterministic randomness, plus a small valid network configuration
 * (cluster C1 with 5 private addresses, cluster C2 with 3, 3 public addresses).
 */
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { testDatabaseUrl, testStoreKind } from '../../helpers/postgres.ts';
import { PropertyService } from '../../../src/cloud-controller/properties/service.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import type { StateChange } from '../../../src/cloud-controller/contracts.ts';

export const CONFIG = {
  InstanceDnsServers: ['10.0.0.2'],
  MacPrefix: 'd0:0d',
  PublicIps: ['192.0.2.10-192.0.2.12'],
  Clusters: [
    { Name: 'C1', MacPrefix: 'aa:bb', Subnet: { Name: 'c1', Subnet: '10.1.0.0', Netmask: '255.255.255.0', Gateway: '10.1.0.1' }, PrivateIps: ['10.1.0.10-10.1.0.14'] },
    { Name: 'C2', Subnet: { Name: 'c2', Subnet: '10.2.0.0', Netmask: '255.255.255.0', Gateway: '10.2.0.1' }, PrivateIps: ['10.2.0.10-10.2.0.12'] },
  ],
};

export function configText(patch: (cfg: typeof CONFIG) => unknown = (c) => c): string {
  return JSON.stringify(patch(structuredClone(CONFIG)), null, 2);
}

/** Deterministic PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Fixture {
  readonly store: Store;
  readonly clock: FakeClock;
  readonly properties: PropertyService;
  readonly state: CloudState;
  readonly changes: StateChange[];
  close(): Promise<void>;
}

/**
 * Where a test's store lives: an in-memory SQLite database, or under
 * EDGENET_TEST_DB=postgres (scripts/test.sh's unit-postgres phase) a fresh
 * PostgreSQL database.
 */
export async function testStoreLocation(): Promise<string> {
  return testStoreKind() === 'postgres' ? testDatabaseUrl() : ':memory:';
}

/**
 * `file`: a SQLite file or a PostgreSQL URL instead of testStoreLocation().
 * `listen`: PostgreSQL — hear other stores' changes (default false: one store per database).
 */
export async function fixture(options: { file?: string; seed?: number; listen?: boolean } = {}): Promise<Fixture> {
  const store = await Store.open(options.file ?? (await testStoreLocation()), { listen: options.listen ?? false });
  const clock = new FakeClock();
  const random = seeded(options.seed ?? 1);
  let counter = 0;
  const randomHex = (bytes: number) => {
    // Deterministic, distinct ids (tests also cover the collision retry separately).
    counter++;
    return (Math.floor(random() * 0xffff).toString(16).padStart(4, '0') + counter.toString(16).padStart(4, '0')).slice(0, bytes * 2);
  };
  const properties = new PropertyService(store, clock);
  const state = new CloudState({ store, clock, clcIp: '10.0.0.1', random, randomHex });
  const changes: StateChange[] = [];
  store.onChange((c) => changes.push(c));
  return { store, clock, properties, state, changes, close: () => store.close() };
}

/** A fixture with the configuration set, clusters C1/C2 registered with one node each, and group "web". */
export async function populated(options: { seed?: number; strategy?: 'first-free' | 'random'; file?: string; listen?: boolean } = {}): Promise<Fixture & { webId: string }> {
  const f = await fixture(options);
  await f.properties.set('cloud.network.network_configuration', configText());
  if (options.strategy) await f.properties.set('cloud.network.address_allocation', options.strategy);
  await f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
  await f.state.registerCluster({ name: 'C2', ccUrl: 'https://10.0.0.16:8774/' });
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
  await f.state.registerNode({ cluster: 'C2', name: '10.0.0.17', ncUrl: 'https://10.0.0.17:8775/' });
  const web = await f.state.createGroup({ name: 'web' });
  f.changes.length = 0;
  return { ...f, webId: web.id };
}

/**
 * Adds account `id` (name `account-<id>`, as migration 5 names existing
 * owners) straight to the table: the existing tests need an owner other than
 * the admin account without the `default` group and access key that
 * CloudState.createAccount also makes.
 */
export async function addAccount(f: { store: Store }, id: string, name = `account-${id}`): Promise<string> {
  await f.store.write(async (tx) => {
    await tx.db.insertInto('accounts').values({ id, name, created_at: 0 }).execute();
  });
  return id;
}

/** Asserts a promise rejects with a given error code; returns the error. */
export async function rejectsCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string; details?: Record<string, unknown>; status?: number }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { code: string };
    if (e.code !== code) throw new Error(`expected error code ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  throw new Error(`expected error code ${code}, but it succeeded`);
}
