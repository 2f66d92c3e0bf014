/**
 * What the metadata plugin tests share: a ClcContext that answers only what
 * the plugin uses (snapshot, instanceByPrivateIp, onChange; everything else
 * rejects), and one HTTP request from a chosen source address (the plugin
 * identifies the instance by it). Used by plugin.test.ts, ipv6.test.ts and
 * ipv6-source.child.ts.
 */
import * as http from 'node:http';
import type { ClcContext, CloudSnapshot, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { systemClock, type Clock } from '../../../src/shared/clock.ts';

export interface MetadataContextParts {
  readonly snapshot: () => Promise<CloudSnapshot>;
  readonly instanceByPrivateIp: (ip: string) => Promise<SnapshotInstance | undefined>;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** Default: never calls back. */
  readonly onChange?: ClcContext['onChange'];
}

/** A ClcContext for the metadata plugin: the given parts, nullLogger, no data dir, the rest rejects as unused. */
export function metadataContext(parts: MetadataContextParts): ClcContext {
  const unused = () => Promise.reject(new Error('not used by the metadata plugin'));
  return {
    logger: nullLogger(),
    clock: parts.clock ?? systemClock,
    env: parts.env ?? {},
    dataDir: '/nonexistent',
    snapshot: parts.snapshot,
    onChange: parts.onChange ?? (() => () => undefined),
    getProperty: unused,
    nextSequence: unused,
    generation: unused,
    documentBuilt: unused,
    nodesApplied: unused,
    route: () => undefined,
    instanceByPrivateIp: parts.instanceByPrivateIp,
    leadership: {
      id: 'clc-test',
      role: () => 'leader',
      term: () => 1,
      view: unused,
      onRoleChange: () => () => undefined,
    },
  };
}

/** One request to host:port from localAddress (no agent: a fresh connection, so the source is the one given). */
export function requestFrom(host: string, port: number, path: string, localAddress: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
