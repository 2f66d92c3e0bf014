/**
 * The EC2 endpoint's clc.conf keys (issue 15), read with the CLC's other
 * settings (flag > EDGENET_CLC_<KEY> > clc.conf > default), their file checks
 * for `--check-config`, and what `startCloudController` needs to start it.
 * It sits beside main.ts, not in ec2/, because ec2/ does not import
 * shared/config (test/helpers/architecture.ts).
 *
 *   EC2_LISTEN              127.0.0.1:8788 | HOST:PORT | [IPv6]:PORT | :PORT (loopback) | off
 *   EC2_TLS_CERT, EC2_TLS_KEY   PEM files, both or neither (HTTPS)
 *   EC2_CLOCK_SKEW_SECONDS  300    the x-amz-date window either side of the CLC's clock
 *   EC2_MAX_BODY_BYTES      1 MiB  413 above it
 *   EC2_RATE_LIMIT          50     requests a second per access key (0 = no limit)
 *   EC2_RATE_BURST          200    bucket size
 */
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../shared/diagnostics.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { checkCertKeyPair } from '../shared/config/checks.ts';
import { bad, ok, parseHostPort, type HostPort, type Settings } from '../shared/config/settings.ts';
import type { HttpTimeouts } from '../shared/http-guard.ts';
import type { Ec2Action } from './ec2/contract.ts';
import { EC2_DEFAULTS } from './ec2/server.ts';

export const EC2_CONFIG_KEYS = ['EC2_LISTEN', 'EC2_TLS_CERT', 'EC2_TLS_KEY', 'EC2_CLOCK_SKEW_SECONDS', 'EC2_MAX_BODY_BYTES', 'EC2_RATE_LIMIT', 'EC2_RATE_BURST'] as const;

export interface Ec2Settings {
  /** undefined: EC2_LISTEN=off. */
  readonly listen: HostPort | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly clockSkewSeconds: number;
  readonly maxBodyBytes: number;
  /** 0: no limit. */
  readonly rateLimit: number;
  readonly rateBurst: number;
}

const absoluteOrNothing = (raw: string) => (raw === '' || raw.startsWith('/') ? ok(raw) : bad('expected an absolute path (or nothing)'));

/** Reads the EC2_* keys; every problem goes to the settings' diagnostics. */
export function readEc2Settings(s: Settings): Ec2Settings {
  const rawListen = s.str('EC2_LISTEN', EC2_DEFAULTS.listen);
  let listen: HostPort | undefined;
  if (rawListen !== 'off') {
    const parsed = parseHostPort(rawListen, '127.0.0.1');
    if (parsed.ok) listen = parsed.value;
    else {
      const origin = s.effective.find((e) => e.key === 'EC2_LISTEN')?.origin ?? 'EC2_LISTEN';
      s.report({ severity: 'error', code: 'EC2_BAD_LISTEN', path: 'EC2_LISTEN', message: `${JSON.stringify(rawListen)} (from ${origin}): expected HOST:PORT, [IPv6]:PORT, :PORT (127.0.0.1) or off` });
    }
  }
  const tlsCert = s.value('EC2_TLS_CERT', '', absoluteOrNothing);
  const tlsKey = s.value('EC2_TLS_KEY', '', absoluteOrNothing);
  if ((tlsCert === '') !== (tlsKey === '')) {
    s.report({ severity: 'error', code: 'CONFIG_BAD_VALUE', path: tlsCert === '' ? 'EC2_TLS_CERT' : 'EC2_TLS_KEY', message: 'set both EC2_TLS_CERT and EC2_TLS_KEY (HTTPS) or neither (plain HTTP)' });
  }
  return {
    listen,
    tlsCert: tlsCert === '' ? undefined : tlsCert,
    tlsKey: tlsKey === '' ? undefined : tlsKey,
    clockSkewSeconds: s.int('EC2_CLOCK_SKEW_SECONDS', EC2_DEFAULTS.clockSkewSeconds, { min: 1, max: 3600 }),
    maxBodyBytes: s.int('EC2_MAX_BODY_BYTES', EC2_DEFAULTS.maxBodyBytes, { min: 1024, max: 64 * 1024 * 1024 }),
    rateLimit: s.int('EC2_RATE_LIMIT', EC2_DEFAULTS.rateLimit, { min: 0, max: 1_000_000 }),
    rateBurst: s.int('EC2_RATE_BURST', EC2_DEFAULTS.rateBurst, { min: 1, max: 1_000_000 }),
  };
}

/** The TLS pair's problems (--check-config): readable, key mode 0600, parseable, matching, not expired. */
export function checkEc2Files(settings: Ec2Settings, now = Date.now()): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (settings.listen === undefined || settings.tlsCert === undefined || settings.tlsKey === undefined) return out;
  checkCertKeyPair({ cert: settings.tlsCert, key: settings.tlsKey, certSetting: 'EC2_TLS_CERT', keySetting: 'EC2_TLS_KEY', now }, (d) => out.push(d));
  return out;
}

/** The PEM pair for node:https, read at start (TLS_UNREADABLE when a file cannot be read). */
export function loadEc2Tls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, setting: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new EdgenetError('TLS_UNREADABLE', `${setting} ${file} cannot be read: ${errorMessage(err)}`, { cause: err });
    }
  };
  return { cert: read(certFile, 'EC2_TLS_CERT'), key: read(keyFile, 'EC2_TLS_KEY') };
}

/** How `startCloudController` starts the endpoint (`ec2` option; absent: not started). */
export interface Ec2EndpointOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** PEM files, both or neither: HTTPS. */
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly clockSkewSeconds?: number;
  readonly maxBodyBytes?: number;
  readonly rateLimit?: number;
  readonly rateBurst?: number;
  /** The actions served, by name (default: actions.ts); tests register their own. */
  readonly actions?: ReadonlyMap<string, Ec2Action>;
  readonly timeouts?: Partial<HttpTimeouts>;
}

/** The settings as start options; undefined when EC2_LISTEN=off. */
export function ec2EndpointOptions(settings: Ec2Settings): Ec2EndpointOptions | undefined {
  if (settings.listen === undefined) return undefined;
  return {
    host: settings.listen.host,
    port: settings.listen.port,
    ...(settings.tlsCert !== undefined && settings.tlsKey !== undefined ? { tlsCertFile: settings.tlsCert, tlsKeyFile: settings.tlsKey } : {}),
    clockSkewSeconds: settings.clockSkewSeconds,
    maxBodyBytes: settings.maxBodyBytes,
    rateLimit: settings.rateLimit,
    rateBurst: settings.rateBurst,
  };
}
