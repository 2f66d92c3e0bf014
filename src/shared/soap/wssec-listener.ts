/**
 * The opt-in Eucalyptus listener as the CC and NC configure and start it
 * (keys EUCA_WSSEC_LISTEN, EUCA_WSSEC_CERT, EUCA_WSSEC_CLOCK_SKEW; off by
 * default; docs/pipeline.md, docs/security.md). It serves only the operations
 * a Eucalyptus peer needs (a broadcast), each request proven by its
 * WS-Security signature (wssec.ts), on its own plain-HTTP port next to the
 * mTLS one.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.ts';
import type { Settings } from '../config/settings.ts';
import type { Role } from '../tls/material.ts';
import { startWsSecSoapServer, type OperationHandler, type RunningServer, type SoapServerOptions } from './server.ts';
import { WsSecVerifier } from './wssec.ts';

/** The config keys, for a daemon's list of known keys. */
export const WSSEC_CONFIG_KEYS = ['EUCA_WSSEC_LISTEN', 'EUCA_WSSEC_CERT', 'EUCA_WSSEC_CLOCK_SKEW'] as const;
const DEFAULT_WSSEC_CLOCK_SKEW_S = 300;

export interface WsSecListenerConfig {
  readonly listen: { host: string; port: number };
  /** PEM file of the Eucalyptus certificate whose key signs the requests (the cluster's for a CC, the node's for an NC). */
  readonly certFile: string;
  readonly clockSkewMs: number;
}

export interface WsSecListenerOptions extends Pick<SoapServerOptions, 'maxRequestBytes' | 'wsdl' | 'logger' | 'onFault' | 'timeouts'> {
  readonly config: WsSecListenerConfig;
  readonly clock: Clock;
  readonly peerRole: Role;
  /** The operations the Eucalyptus peer may call (a subset of the mTLS listener's). */
  readonly operations: Readonly<Record<string, OperationHandler>>;
}

export function startWsSecListener(options: WsSecListenerOptions): Promise<RunningServer> {
  const { config, clock, peerRole, ...server } = options;
  const verifier = new WsSecVerifier({ certificatePem: readFileSync(config.certFile, 'utf8'), clock, clockSkewMs: config.clockSkewMs });
  options.logger.info('Eucalyptus WS-Security listener enabled', { host: config.listen.host, port: config.listen.port, signer: verifier.signer, operations: Object.keys(options.operations) });
  return startWsSecSoapServer({ ...server, verifier, peerRole }, config.listen);
}

/**
 * The opt-in Eucalyptus listener's keys, read the same way by the CC and the
 * NC: EUCA_WSSEC_LISTEN (default off) and the certificate it trusts,
 * EUCA_WSSEC_CERT, which is then required.
 */
export function readWsSecListenerConfig(s: Settings): WsSecListenerConfig | undefined {
  const listen = s.listenOrOff('EUCA_WSSEC_LISTEN', 'off');
  const certFile = s.optional('EUCA_WSSEC_CERT');
  const skew = s.int('EUCA_WSSEC_CLOCK_SKEW', DEFAULT_WSSEC_CLOCK_SKEW_S, { min: 0, max: 3600 });
  if (!listen) return undefined;
  if (!certFile) {
    s.report({ severity: 'error', code: 'CONFIG_BAD_VALUE', path: 'EUCA_WSSEC_CERT', message: 'EUCA_WSSEC_LISTEN is set, so EUCA_WSSEC_CERT must name the Eucalyptus certificate (PEM) that signs the requests' });
    return undefined;
  }
  return { listen, certFile, clockSkewMs: skew * 1000 };
}
