/**
 * The mTLS role check on resumed TLS sessions (issue 18 item 3), with real TLS
 * on loopback: a client socket that resumes a session reports no peer
 * certificate through Node's API, so the role must come from the session.
 */
import { test } from 'node:test';
import { tlsFixture } from '../../helpers/tls-fixture.ts';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { serverTlsOptions, clientTlsOptions, peerRole, type TlsMaterial } from '../../../src/shared/tls/material.ts';
import { peerCertificateFromSession } from '../../../src/shared/tls/session-peer.ts';
import { startSoapServer } from '../../../src/shared/soap/server.ts';
import { SoapClient } from '../../../src/shared/soap/client.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { envelope } from '../../../src/shared/soap/envelope.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';

const fixture = tlsFixture('edgenet-tls-resume-');
const material = fixture.material;

type Seen = { reused: boolean; role: string };

/** `count` sequential connections, each after the first resuming the first one's session; both sides' view of the peer. */
async function connectSeveral(options: { server: TlsMaterial; client: TlsMaterial; version: 'TLSv1.2' | 'TLSv1.3'; count: number }) {
  const serverSaw: Seen[] = [];
  const server = tls.createServer({ ...serverTlsOptions(options.server), maxVersion: options.version }, (socket) => {
    const who = peerRole(socket);
    serverSaw.push({ reused: socket.isSessionReused(), role: who.ok ? who.role : `refused: ${who.reason}` });
    socket.end('x');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const clientSaw: Seen[] = [];
  let session: Buffer | undefined;
  try {
    for (let i = 0; i < options.count; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = tls.connect({ ...clientTlsOptions(options.client), host: '127.0.0.1', port, session, maxVersion: options.version }, () => {
          const who = peerRole(socket);
          clientSaw.push({ reused: socket.isSessionReused(), role: who.ok ? who.role : `refused: ${who.reason}` });
        });
        socket.on('session', (s: Buffer) => {
          session ??= s;
        });
        socket.on('error', reject);
        socket.resume();
        socket.on('end', () => {
          socket.end();
          resolve();
        });
      });
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { serverSaw, clientSaw };
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: every resumed connection sees the peer's role on both sides`, async () => {
    const { serverSaw, clientSaw } = await connectSeveral({ server: material.cc!, client: material.clc!, version, count: 4 });
    assert.deepEqual(clientSaw.map((s) => s.reused), [false, true, true, true], 'the later connections must really resume');
    assert.deepEqual(clientSaw.map((s) => s.role), ['cc', 'cc', 'cc', 'cc']);
    assert.deepEqual(serverSaw.map((s) => s.role), ['clc', 'clc', 'clc', 'clc']);
  });

  test(`${version}: a wrong-role certificate is still seen as that role on a resumed session`, async () => {
    // An NC certificate calling what only a CLC may call; and a client expecting an NC reaching a CC.
    const { serverSaw, clientSaw } = await connectSeveral({ server: material.cc!, client: material.nc!, version, count: 3 });
    assert.deepEqual(serverSaw.map((s) => [s.reused, s.role]), [[false, 'nc'], [true, 'nc'], [true, 'nc']]);
    assert.deepEqual(clientSaw.map((s) => s.role), ['cc', 'cc', 'cc']);
  });
}

test('peerCertificateFromSession: garbage and sessions without a peer give nothing', () => {
  assert.equal(peerCertificateFromSession(Buffer.alloc(0)), undefined);
  assert.equal(peerCertificateFromSession(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), undefined);
  assert.equal(peerCertificateFromSession(Buffer.from([0x30, 0x85, 0, 0, 0, 0, 0])), undefined);
  assert.equal(peerCertificateFromSession(Buffer.from([0x30, 0x04, 0xa3, 0x02, 0x05, 0x00])), undefined, 'a [3] that is no certificate');
});

test('SoapClient: new connections that resume the session pass the role check (no PEER_ROLE)', async () => {
  const running = await startSoapServer(
    { tls: material.cc!, allowedRole: 'clc', maxRequestBytes: 1 << 20, wsdl: '', logger: nullLogger(), operations: { Ping: async () => envelope('PingResponse', '') } },
    { host: '127.0.0.1', port: 0 },
  );
  const client = new SoapClient({ tls: material.clc!, expectRole: 'cc' });
  const wrong = new SoapClient({ tls: material.clc!, expectRole: 'nc' });
  try {
    const agent = client['agent'];
    const reused: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const call = client.call({ url: `https://127.0.0.1:${running.port}/`, operation: 'Ping', action: 'x#Ping', inner: '', timeoutMs: 5000 });
      await call.catch((err: unknown) => assert.fail(`call ${i}: ${(err as Error).message}`));
      // Drop the idle keep-alive socket so the next call opens a new connection (resuming the session).
      for (let tick = 0; tick < 1000 && Object.values(agent.freeSockets).flat().length === 0; tick++) await new Promise(setImmediate);
      for (const s of Object.values(agent.freeSockets).flat()) {
        reused.push((s as tls.TLSSocket).isSessionReused());
        s!.destroy();
      }
    }
    assert.deepEqual(reused, [false, true, true, true]);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        wrong.call({ url: `https://127.0.0.1:${running.port}/`, operation: 'Ping', action: 'x#Ping', inner: '', timeoutMs: 5000 }),
        (err: unknown) => err instanceof EdgenetError && err.code === 'PEER_ROLE' && /role cc/.test(err.message),
      );
    }
  } finally {
    client.close();
    wrong.close();
    await running.close();
  }
});
