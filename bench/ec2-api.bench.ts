/**
 * EC2 Query endpoint bench (issue 15): a real CLC started in this process
 * (startCloudController, file database, the EC2 listener on a free loopback
 * port, EC2_RATE_LIMIT=0 so the per-key bucket does not cap the load), two
 * tenants of 500 security groups each (the `default` group + 499, each with
 * 3-5 rules: CIDRs, ICMP, a source group of its own account, every tenth a
 * source group of the other tenant by UserId + GroupName), and a load
 * generator in a child process (bench/ec2-load-client.ts, so its signing and
 * parsing do not share the server's event loop) sending SigV4-signed POSTs
 * (test/helpers/sigv4-client.ts, the botocore-like signer the tests use; each
 * request signed afresh) over N keep-alive connections.
 *
 *   node --import tsx bench/ec2-api.bench.ts [--duration 8] [--warmup 2] [--concurrency 1,8]
 *        [--groups 500] [--verify-iterations 20000] [--client-calls 5] [--no-clients] [--json]
 *
 * 1. DescribeSecurityGroups as tenant A (its 500 groups) and as the admin
 *    account (every account's: 1,001): requests per second, latency
 *    p50/p95/p99, response bytes, and the CLC process's CPU per request.
 *    Every response must be a 200 with the expected number of groups; any
 *    other answer stops the bench.
 * 2. What SigV4 verification adds: in this process, per request, the server's
 *    own steps — readSigV4Head (parse the Authorization header, the window),
 *    CloudState.accessKeySecret (the secret, from its cache after the first
 *    request) and verifySigV4 (canonical request, HMAC chain, constant-time
 *    compare) — timed over many iterations; end to end,
 *    DescribeAvailabilityZones (2 zones, the cheapest action) against the
 *    endpoint, and the same signed request against a bare node:http server
 *    in this process that reads the body and answers the same bytes (the
 *    HTTP floor). The endpoint has no seam to skip verification (and gets
 *    none for a bench), so the share is verify time / endpoint time.
 * 3. For context: /usr/bin/aws and boto3 (/usr/bin/python3) per-call wall
 *    time (process start-up included) and boto3's time per call within one
 *    process (test/helpers/aws.ts).
 *
 * Results: bench/results/ec2-api.md.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir, cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { nullLogger } from '../src/shared/logger.ts';
import { startCloudController, type RunningCloudController } from '../src/cloud-controller/main.ts';
import { ADMIN_ACCOUNT_ID } from '../src/cloud-controller/services/accounts.ts';
import { readSigV4Head, verifySigV4 } from '../src/cloud-controller/ec2/sigv4.ts';
import { decodeForm } from '../src/cloud-controller/ec2/query.ts';
import { EC2_ACTIONS_BY_NAME } from '../src/cloud-controller/ec2/actions.ts';
import { successXml } from '../src/cloud-controller/ec2/xml.ts';
import { signEc2, type SigV4Credentials } from '../test/helpers/sigv4-client.ts';
import { awsClientsInstalled, awsEc2, boto3, type Ec2Credentials } from '../test/helpers/aws.ts';
import { REGION, type ClientMessage, type LoadJob, type LoadResult } from './ec2-load-client.ts';

const VERSION = '2016-11-15';
const DESCRIBE_GROUPS: readonly (readonly [string, string])[] = [['Action', 'DescribeSecurityGroups'], ['Version', VERSION]];
const DESCRIBE_ZONES: readonly (readonly [string, string])[] = [['Action', 'DescribeAvailabilityZones'], ['Version', VERSION]];

await main();

// ---------------------------------------------------------------------------------------------
// The bench (parent process: the CLC, the HTTP floor server, the microbenchmarks).

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '1,8' },
      groups: { type: 'string', default: '500' },
      'verify-iterations': { type: 'string', default: '20000' },
      'client-calls': { type: 'string', default: '5' },
      'no-clients': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const DURATION_MS = Number(values.duration) * 1000;
  const WARMUP_MS = Number(values.warmup) * 1000;
  const CONCURRENCY = values.concurrency!.split(',').map(Number);
  const GROUPS = Number(values.groups);
  const VERIFY_ITERATIONS = Number(values['verify-iterations']);
  const CLIENT_CALLS = Number(values['client-calls']);
  const log = (text: string) => {
    if (!values.json) console.log(text);
    else console.error(text);
  };
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

  const report: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    loadBefore: load(),
    settings: { durationS: DURATION_MS / 1000, warmupS: WARMUP_MS / 1000, concurrency: CONCURRENCY, groups: GROUPS },
  };
  log(`load average at start: ${report.loadBefore}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-ec2-bench-'));
  let clc: RunningCloudController | undefined;
  let floor: http.Server | undefined;
  try {
    clc = await startCloudController({
      dbPath: path.join(dir, 'clc.db'),
      host: '127.0.0.1',
      port: 0,
      clcIp: '10.0.0.1',
      tokenFile: path.join(dir, 'admin.token'),
      logger: nullLogger(),
      plugins: [],
      ec2: { host: '127.0.0.1', port: 0, rateLimit: 0 },
    });
    const endpoint = clc.ec2Url!;
    const { state } = clc;

    // Two zones for DescribeAvailabilityZones.
    await clc.properties.set(
      'cloud.network.network_configuration',
      JSON.stringify({
        PublicIps: ['172.16.0.1-172.16.0.254'],
        Clusters: ['zone-a', 'zone-b'].map((name, c) => ({ Name: name, Subnet: { Name: `s${c}`, Subnet: `10.${c}.0.0`, Netmask: '255.255.0.0', Gateway: `10.${c}.0.1` }, PrivateIps: [`10.${c}.0.10-10.${c}.0.250`] })),
      }),
    );
    await state.registerCluster({ name: 'zone-a', ccUrl: 'https://10.254.0.1:8774/' });
    await state.registerCluster({ name: 'zone-b', ccUrl: 'https://10.254.1.1:8774/' });

    // Two tenants of GROUPS groups each (the default group counts), 3-5 rules a group.
    let t = performance.now();
    const a = await state.createAccount({ name: 'tenant-a' });
    const b = await state.createAccount({ name: 'tenant-b' });
    const tenants = [a, b];
    const names: string[][] = [[], []];
    for (const [k, tenant] of tenants.entries()) {
      for (let g = 1; g < GROUPS; g++) {
        const name = `app-${String(g).padStart(3, '0')}`;
        await state.createGroup({ name, owner: tenant.account.id, description: `application tier ${g}` });
        names[k]!.push(name);
      }
    }
    let rules = 0;
    for (const [k, tenant] of tenants.entries()) {
      const other = tenants[1 - k]!;
      for (let g = 0; g < names[k]!.length; g++) {
        const own = names[k]!;
        const permissions: object[] = [
          { protocol: 'tcp', port: '22', cidr: '10.0.0.0/8' },
          { protocol: 'tcp', port: '443', cidr: `198.51.${g % 256}.0/24` },
          { protocol: 'tcp', port: '5432', sourceGroup: own[(g + 1) % own.length] },
        ];
        if (g % 2 === 0) permissions.push({ protocol: 'icmp', icmp: '8:-1', cidr: '192.0.2.0/24' });
        if (g % 10 === 0) permissions.push({ protocol: 'udp', port: '8000-8100', sourceGroup: names[1 - k]![g]!, sourceAccount: other.account.id });
        else if (g % 3 === 0) permissions.push({ protocol: 'udp', port: '53', cidr: '203.0.113.0/24' });
        await state.authorize(own[g]!, tenant.account.id, { permissions });
        rules += permissions.length;
      }
    }
    const adminKey = await state.createAccessKey(ADMIN_ACCOUNT_ID);
    await state.ensureDefaultGroup(ADMIN_ACCOUNT_ID);
    const all = await state.listGroups();
    const mine = await state.listGroups(a.account.id);
    if (mine.length !== GROUPS) throw new Error(`tenant-a has ${mine.length} groups, expected ${GROUPS}`);
    const setupMs = performance.now() - t;
    log(`setup: 2 tenants × ${GROUPS} groups (+${rules} rules besides the default groups'), ${all.length} groups in all, ${setupMs.toFixed(0)} ms`);
    report.setup = { tenants: 2, groupsPerTenant: GROUPS, groupsInAll: all.length, rulesAdded: rules, ms: Math.round(setupMs) };

    const credsA: SigV4Credentials = { accessKeyId: a.accessKey.accessKeyId, secretAccessKey: a.accessKey.secretAccessKey };
    const credsAdmin: SigV4Credentials = { accessKeyId: adminKey.accessKeyId, secretAccessKey: adminKey.secretAccessKey };

    // The load runs: one child process per run.
    const clientFile = new URL('./ec2-load-client.ts', import.meta.url).pathname;
    const runJob = (job: Omit<LoadJob, 'warmupMs' | 'durationMs'>) =>
      new Promise<LoadResult & { serverCpuMs: number }>((resolve, reject) => {
        const child = fork(clientFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        let cpu0: NodeJS.CpuUsage | undefined;
        let settled = false;
        child.on('message', (m: ClientMessage) => {
          if (m.type === 'measuring') cpu0 = process.cpuUsage();
          else if (m.type === 'done') {
            const c = process.cpuUsage(cpu0);
            settled = true;
            resolve({ ...m.result, serverCpuMs: (c.user + c.system) / 1000 });
          } else {
            settled = true;
            reject(new Error(`load client: ${m.message}`));
          }
        });
        child.on('close', (code) => {
          if (!settled) reject(new Error(`load client exited ${code} without a result`));
        });
        child.send({ ...job, warmupMs: WARMUP_MS, durationMs: DURATION_MS } satisfies LoadJob);
      });
    const pct = (xs: readonly number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
    const summarize = (label: string, concurrency: number, r: LoadResult & { serverCpuMs: number }) => {
      const row = {
        label,
        concurrency,
        requests: r.requests,
        rps: Math.round((r.requests / r.elapsedMs) * 1000 * 10) / 10,
        p50: +pct(r.latencies, 50).toFixed(2),
        p95: +pct(r.latencies, 95).toFixed(2),
        p99: +pct(r.latencies, 99).toFixed(2),
        bytes: r.bytes,
        serverCpuMsPerRequest: +(r.serverCpuMs / r.requests).toFixed(3),
        clientCpuMsPerRequest: +(r.clientCpuMs / r.requests).toFixed(3),
      };
      log(
        `${label.padEnd(44)} c=${String(concurrency).padEnd(2)} ${String(row.rps).padStart(7)} req/s  p50 ${row.p50} p95 ${row.p95} p99 ${row.p99} ms  ${row.bytes} B  CLC CPU ${row.serverCpuMsPerRequest} ms/req (${r.requests} requests)`,
      );
      return row;
    };

    // 1. DescribeSecurityGroups.
    const groupsRows: ReturnType<typeof summarize>[] = [];
    for (const [label, creds, count] of [
      [`DescribeSecurityGroups, tenant (${GROUPS} groups)`, credsA, GROUPS],
      [`DescribeSecurityGroups, admin (${all.length} groups)`, credsAdmin, all.length],
    ] as const) {
      for (const c of CONCURRENCY) {
        groupsRows.push(summarize(label, c, await runJob({ endpoint, credentials: creds, params: DESCRIBE_GROUPS, concurrency: c, marker: '<groupDescription>', count })));
      }
    }
    report.describeSecurityGroups = groupsRows;

    // 1b. Where one DescribeSecurityGroups goes, in process (no HTTP, no signature): the services'
    // read (CloudState.listGroups), the whole handler (that read + filters + EC2 shapes), the XML.
    const action = EC2_ACTIONS_BY_NAME.get('DescribeSecurityGroups')!;
    const breakdown = async (label: string, accountId: string) => {
      const caller = { accountId, accessKeyId: 'AKIEBENCH', admin: accountId === ADMIN_ACCOUNT_ID };
      const request = { requestId: 'bench', action: action.name, version: VERSION, params: new Map<string, string>(), caller, region: REGION };
      const read: number[] = [];
      const handler: number[] = [];
      const xml: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < 13; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await state.listGroups(caller.admin ? undefined : accountId);
        const t1 = performance.now();
        const result = await action.handle(request, { state, now: Date.now });
        const t2 = performance.now();
        successXml(action.name, 'bench', result);
        const t3 = performance.now();
        const c = process.cpuUsage(c0);
        if (i < 3) continue;
        read.push(t1 - t0);
        handler.push(t2 - t1);
        xml.push(t3 - t2);
        cpu.push((c.user + c.system) / 1000);
      }
      for (const xs of [read, handler, xml, cpu]) xs.sort((x, y) => x - y);
      const row = { label, listGroupsMs: +pct(read, 50).toFixed(1), handlerMs: +pct(handler, 50).toFixed(1), xmlMs: +pct(xml, 50).toFixed(1), cpuMsAllThree: +pct(cpu, 50).toFixed(1) };
      log(`in process, ${label}: CloudState.listGroups ${row.listGroupsMs} ms; the handler (its own listGroups + shapes) ${row.handlerMs} ms; successXml ${row.xmlMs} ms (medians of 10)`);
      return row;
    };
    report.describeSecurityGroupsInProcess = [await breakdown(`tenant (${GROUPS} groups)`, a.account.id), await breakdown(`admin (${all.length} groups)`, ADMIN_ACCOUNT_ID)];

    // 2a. The server's verification steps, in process, per request.
    const signedZones = signEc2({ endpoint, credentials: credsA, params: DESCRIBE_ZONES, region: REGION });
    const signedGroups = signEc2({ endpoint, credentials: credsA, params: DESCRIBE_GROUPS, region: REGION });
    const rawHeadersOf = (s: typeof signedZones) => [...Object.entries(s.headers).flat(), 'Content-Length', String(s.body.length), 'Connection', 'keep-alive'];
    const micro = async (label: string, s: typeof signedZones) => {
      const rawHeaders = rawHeadersOf(s);
      const steps = { head: 0, secret: 0, verify: 0 };
      const one = async (timed: boolean) => {
        const t0 = performance.now();
        const head = readSigV4Head({ method: 'POST', path: '/', rawHeaders, now: Date.now(), skewSeconds: 300, service: 'ec2' });
        const t1 = performance.now();
        if (!head.ok) throw new Error(`${label}: ${head.code} ${head.message}`);
        const key = await state.accessKeySecret(head.accessKeyId);
        const t2 = performance.now();
        if (!key) throw new Error(`${label}: no key`);
        const query = decodeForm('');
        if (!query.ok) throw new Error('query');
        const v = verifySigV4(head, query.pairs, s.body, key.secret);
        const t3 = performance.now();
        if (!v.ok) throw new Error(`${label}: ${v.code} ${v.message}`);
        if (timed) {
          steps.head += t1 - t0;
          steps.secret += t2 - t1;
          steps.verify += t3 - t2;
        }
      };
      for (let i = 0; i < 2000; i++) await one(false);
      // Whole-loop time (no per-step timers) for the total; per-step sums for the split.
      // CPU time (user + system) per batch as well: it does not grow when other processes take the cores.
      const batches: number[] = [];
      const cpuBatches: number[] = [];
      const batch = 1000;
      for (let done = 0; done < VERIFY_ITERATIONS; done += batch) {
        const c0 = process.cpuUsage();
        const b0 = performance.now();
        for (let i = 0; i < batch; i++) await one(false);
        batches.push(((performance.now() - b0) / batch) * 1000);
        const c = process.cpuUsage(c0);
        cpuBatches.push((c.user + c.system) / batch);
      }
      cpuBatches.sort((x, y) => x - y);
      for (let i = 0; i < VERIFY_ITERATIONS; i++) await one(true);
      batches.sort((x, y) => x - y);
      const us = (ms: number) => +((ms / VERIFY_ITERATIONS) * 1000).toFixed(2);
      const row = { label, iterations: VERIFY_ITERATIONS, bodyBytes: s.body.length, usMedian: +pct(batches, 50).toFixed(2), usBest: +batches[0]!.toFixed(2), cpuUsMedian: +pct(cpuBatches, 50).toFixed(2), split: { headUs: us(steps.head), secretCacheHitUs: us(steps.secret), verifyUs: us(steps.verify) } };
      log(`verify, ${label}: ${row.usMedian} µs per request (median of ${batches.length} batches of ${batch}; best ${row.usBest}; CPU ${row.cpuUsMedian} µs); readSigV4Head ${row.split.headUs} + accessKeySecret (cache hit) ${row.split.secretCacheHitUs} + verifySigV4 ${row.split.verifyUs} µs`);
      return row;
    };
    const verifyRows = [await micro('DescribeAvailabilityZones', signedZones), await micro('DescribeSecurityGroups', signedGroups)];
    // The first request of a key: the secret read from the database and opened (AES-256-GCM), no cache.
    const coldKey = await state.createAccessKey(b.account.id);
    const c0 = performance.now();
    await state.accessKeySecret(coldKey.accessKeyId);
    const coldUs = +((performance.now() - c0) * 1000).toFixed(0);
    log(`accessKeySecret, first use of a key (database read + unseal): ${coldUs} µs`);
    report.verify = { rows: verifyRows, secretColdUs: coldUs };

    // 2b. End to end: DescribeAvailabilityZones at the endpoint vs the HTTP floor.
    const zonesBody = await new Promise<string>((resolve, reject) => {
      const s = signEc2({ endpoint, credentials: credsA, params: DESCRIBE_ZONES, region: REGION });
      const req = http.request(s.url, { method: 'POST', headers: { ...s.headers, 'Content-Length': String(s.body.length) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`DescribeAvailabilityZones: HTTP ${res.statusCode}: ${text}`))));
      });
      req.on('error', reject);
      req.end(s.body);
    });
    floor = http.createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(zonesBody)) });
        res.end(zonesBody);
      });
    });
    await new Promise<void>((resolve) => floor!.listen(0, '127.0.0.1', resolve));
    const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}`;
    const zoneRows: ReturnType<typeof summarize>[] = [];
    for (const c of CONCURRENCY) {
      zoneRows.push(summarize('DescribeAvailabilityZones (2 zones), endpoint', c, await runJob({ endpoint, credentials: credsA, params: DESCRIBE_ZONES, concurrency: c, marker: '<zoneName>', count: 2 })));
      zoneRows.push(summarize('same request, bare node:http (HTTP floor)', c, await runJob({ endpoint: floorUrl, credentials: credsA, params: DESCRIBE_ZONES, concurrency: c, marker: '<zoneName>', count: 2 })));
    }
    const verifyUs = verifyRows[0]!.usMedian;
    const shares = CONCURRENCY.map((c) => {
      const ep = zoneRows.find((r) => r.concurrency === c && r.label.includes('endpoint'))!;
      const fl = zoneRows.find((r) => r.concurrency === c && r.label.includes('floor'))!;
      const share = {
        concurrency: c,
        endpointP50Ms: ep.p50,
        floorP50Ms: fl.p50,
        endpointCpuMsPerRequest: ep.serverCpuMsPerRequest,
        floorCpuMsPerRequest: fl.serverCpuMsPerRequest,
        verifyUs,
        shareOfP50: +((verifyUs / 1000 / ep.p50) * 100).toFixed(1),
        shareOfCpu: +((verifyUs / 1000 / ep.serverCpuMsPerRequest) * 100).toFixed(1),
      };
      log(`c=${c}: verification ${verifyUs} µs = ${share.shareOfP50}% of the endpoint's p50 (${ep.p50} ms; HTTP floor ${fl.p50} ms), ${share.shareOfCpu}% of the CLC's CPU per request (${ep.serverCpuMsPerRequest} ms; floor ${fl.serverCpuMsPerRequest} ms)`);
      return share;
    });
    report.describeAvailabilityZones = zoneRows;
    report.verifyShare = shares;

    // 3. The AWS CLI and boto3, for context.
    if (!values['no-clients'] && awsClientsInstalled()) {
      const creds = (c: SigV4Credentials): Ec2Credentials => ({ endpoint, ...c, region: REGION });
      const timeCalls = async (label: string, call: () => Promise<{ code: number; stdout: string; stderr: string }>, check: (stdout: string) => boolean) => {
        const times: number[] = [];
        for (let i = 0; i < CLIENT_CALLS; i++) {
          const t0 = performance.now();
          const r = await call();
          const ms = performance.now() - t0;
          if (r.code !== 0 || !check(r.stdout)) throw new Error(`${label}: exit ${r.code}: ${r.stderr.slice(0, 400)}`);
          times.push(ms);
        }
        times.sort((x, y) => x - y);
        const row = { label, calls: CLIENT_CALLS, medianMs: Math.round(pct(times, 50)), minMs: Math.round(times[0]!), maxMs: Math.round(times.at(-1)!) };
        log(`${label.padEnd(60)} median ${row.medianMs} ms (min ${row.minMs}, max ${row.maxMs}; ${CLIENT_CALLS} calls)`);
        return row;
      };
      const groupsOf = (stdout: string) => (JSON.parse(stdout) as { SecurityGroups: unknown[] }).SecurityGroups.length;
      const clientRows = [
        await timeCalls('aws ec2 describe-availability-zones (process)', () => awsEc2(creds(credsA), ['describe-availability-zones']), (o) => (JSON.parse(o) as { AvailabilityZones: unknown[] }).AvailabilityZones.length === 2),
        await timeCalls(`aws ec2 describe-security-groups, ${GROUPS} groups (process)`, () => awsEc2(creds(credsA), ['describe-security-groups']), (o) => groupsOf(o) === GROUPS),
        await timeCalls('boto3 describe_availability_zones (python process)', () => boto3(creds(credsA), 'print(len(ec2.describe_availability_zones()["AvailabilityZones"]))'), (o) => o.trim() === '2'),
        await timeCalls(`boto3 describe_security_groups, ${GROUPS} groups (python process)`, () => boto3(creds(credsA), 'print(len(ec2.describe_security_groups()["SecurityGroups"]))'), (o) => o.trim() === String(GROUPS)),
      ];
      // Within one Python process: the calls alone, the client already made.
      const inProcess = await boto3(
        creds(credsA),
        [
          'import time',
          'def timed(f, n):',
          '    out = []',
          '    for _ in range(n):',
          '        t = time.perf_counter(); r = f(); out.append((time.perf_counter() - t) * 1000)',
          '    return r, sorted(out)',
          'z, zt = timed(ec2.describe_availability_zones, 20)',
          'g, gt = timed(ec2.describe_security_groups, 10)',
          'print(json.dumps({"zones": len(z["AvailabilityZones"]), "groups": len(g["SecurityGroups"]), "zonesMs": zt, "groupsMs": gt}))',
        ].join('\n'),
      );
      if (inProcess.code !== 0) throw new Error(`boto3 in-process timing: ${inProcess.stderr.slice(0, 400)}`);
      const timing = JSON.parse(inProcess.stdout) as { zones: number; groups: number; zonesMs: number[]; groupsMs: number[] };
      if (timing.zones !== 2 || timing.groups !== GROUPS) throw new Error(`boto3 in-process: ${timing.zones} zones, ${timing.groups} groups`);
      const inRow = { zonesMedianMs: +pct(timing.zonesMs, 50).toFixed(1), groupsMedianMs: +pct(timing.groupsMs, 50).toFixed(1) };
      log(`boto3 within one process (client made): describe_availability_zones median ${inRow.zonesMedianMs} ms (20 calls), describe_security_groups ${inRow.groupsMedianMs} ms (10 calls)`);
      report.clients = { rows: clientRows, boto3InProcess: inRow };
    } else {
      log('AWS CLI / boto3: skipped (--no-clients, or /usr/bin/aws / python3-boto3 not installed)');
    }
  } finally {
    if (floor) await new Promise<void>((resolve) => floor!.close(() => resolve()));
    await clc?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  report.loadAfter = load();
  log(`load average at end: ${report.loadAfter}`);
  if (values.json) console.log(JSON.stringify(report, null, 2));
}
