/**
 * What the CLI needs from the cloud controller's config file (`clc.conf`,
 * read by the one KEY=value reader, shared/config/conf-file.ts, as the CLC
 * reads it; see examples/clc.conf): where its admin API listens (LISTEN) and
 * where its admin token is (TOKEN_FILE). Tolerant on purpose: keys the CLI
 * does not use, and lines the reader refuses, are ignored (the CLC itself
 * reports them), so a new CLC setting never breaks the CLI.
 */
import { DEFAULT_PORTS } from '../shared/paths.ts';
import { parseConfText } from '../shared/config/conf-file.ts';

export interface ClcConfForCli {
  readonly listen?: string;
  readonly tokenFile?: string;
}

export function parseClcConfForCli(text: string): ClcConfForCli {
  const { entries } = parseConfText(text);
  const listen = entries.get('LISTEN')?.value;
  const tokenFile = entries.get('TOKEN_FILE')?.value;
  return { ...(listen !== undefined ? { listen } : {}), ...(tokenFile !== undefined ? { tokenFile } : {}) };
}

/**
 * The URL a client on this host uses for a CLC listening at LISTEN
 * (`HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`): a wildcard address
 * (0.0.0.0, ::, empty) becomes the loopback address of its family.
 */
export function listenToUrl(listen: string): string | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(listen.trim()) ?? /^()()(\d+)$/.exec(listen.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!(port > 0 && port <= 65535)) return undefined;
  const v6 = m[1];
  if (v6 !== undefined) return `http://[${v6 === '' || v6 === '::' ? '::1' : v6}]:${port}`;
  const host = m[2] === '' || m[2] === undefined || m[2] === '0.0.0.0' ? '127.0.0.1' : m[2];
  return `http://${host}:${port}`;
}

export const DEFAULT_CLC_URL = `http://127.0.0.1:${DEFAULT_PORTS.clcApi}`;
