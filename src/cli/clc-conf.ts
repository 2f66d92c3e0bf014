/**
 * What the CLI needs from the cloud controller's config file (`clc.conf`,
 * KEY=value lines, see examples/clc.conf): where its admin API listens
 * (LISTEN) and where its admin token is (TOKEN_FILE). Tolerant on purpose:
 * keys the CLI does not use are ignored (the CLC itself checks them), so a
 * new CLC setting never breaks the CLI.
 */
import { DEFAULT_PORTS } from '../shared/paths.ts';

export interface ClcConfForCli {
  readonly listen?: string;
  readonly tokenFile?: string;
}

export function parseClcConfForCli(text: string): ClcConfForCli {
  const out: { listen?: string; tokenFile?: string } = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    let value = m[2]!;
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    if (m[1] === 'LISTEN') out.listen = value;
    if (m[1] === 'TOKEN_FILE') out.tokenFile = value;
  }
  return out;
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
