/**
 * Argument checks shared by the state services. Each throws a UserError with a
 * stable code before anything is written, so a bad argument changes nothing.
 * (An owner argument is resolved to an existing account by accounts.ts
 * `resolveOwner`, in the CloudState transaction that uses it.)
 */
import { UserError } from '../../shared/errors.ts';
import { isMacAddress, isUnicastMacAddress, parseIp } from '../../shared/ip.ts';

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UserError('MissingParameter', `${field} is required`);
  }
  return value.trim();
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new UserError('InvalidParameterValue', `${field} must be a string`);
  return value;
}

export function ipArgument(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (parseIp(text) === undefined) throw new UserError('InvalidParameterValue', `${field} must be an IPv4 address, got ${JSON.stringify(text)}`);
  return text;
}

/**
 * A requested instance MAC (`instance run --mac`): `hh:hh:hh:hh:hh:hh` in any
 * case, unicast and not all zeros (a NIC, and the EUI-64 IPv6 address built
 * from it, must be an individual address). Returns the lower-case canonical
 * form the database stores, so UNIQUE mac compares like with like, or
 * undefined when none was given. Whether it lies in the cluster's MacPrefix
 * and is free is instances.ts's check (it needs the cluster and the table).
 */
export function macArgument(value: unknown, field = 'mac'): string | undefined {
  const text = optionalString(value, field)?.trim();
  if (text === undefined || text === '') return undefined;
  if (!isMacAddress(text)) throw new UserError('InvalidParameterValue', `${field} must be a MAC address hh:hh:hh:hh:hh:hh, got ${JSON.stringify(text)}`);
  if (!isUnicastMacAddress(text)) throw new UserError('InvalidParameterValue', `${field} ${text} is not a unicast MAC address (its first octet's multicast bit is set, or it is all zeros)`);
  return text.toLowerCase();
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function nameArgument(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (!NAME.test(text)) {
    throw new UserError('InvalidParameterValue', `${field} must be 1-64 characters of letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(text)}`);
  }
  return text;
}

/**
 * A CC or NC SOAP endpoint: `https://HOST:PORT/[path]` with the port written
 * out (the pipeline is mutual TLS only, and a silent default port hides
 * mistakes). No credentials, query or fragment. Code `InvalidUrl`.
 */
export function serviceUrlArgument(value: unknown, field: string): URL {
  const text = requireString(value, field);
  const bad = (why: string) => new UserError('INVALID_URL', `${field} ${JSON.stringify(text)} ${why}: expected https://HOST:PORT/ (for example https://10.0.0.6:8774/)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('is not a URL');
  }
  if (url.protocol !== 'https:') throw bad(`uses ${url.protocol.replace(/:$/, '')}, not https (the pipeline is mutual TLS only)`);
  if (url.hostname === '') throw bad('has no host');
  // URL drops a default port (443): look at what was written.
  if (!/^https:\/\/(\[[^\]]+\]|[^/:?#@]+):\d+(\/|$)/i.test(text)) throw bad('names no port');
  if (url.username !== '' || url.password !== '') throw bad('carries credentials');
  if (url.search !== '' || url.hash !== '') throw bad('carries a query or fragment');
  return url;
}

/**
 * A node's name: its IPv4 address, as Eucalyptus registers nodes and as netd
 * finds itself in the document. Not 0.0.0.0/8, multicast, reserved or the
 * broadcast address. Code `InvalidNodeName`.
 */
export function nodeNameArgument(value: unknown, field = 'node name'): string {
  const text = requireString(value, field);
  const ip = parseIp(text);
  if (ip === undefined) throw new UserError('INVALID_NODE_NAME', `a node is named by its IPv4 address (as Eucalyptus registers nodes), got ${JSON.stringify(text)}`);
  const first = Math.floor(ip / 0x1000000);
  if (first === 0 || first >= 224) throw new UserError('INVALID_NODE_NAME', `${text} cannot be a node's address (0.0.0.0/8, multicast and reserved addresses are not)`);
  return text;
}

/** Random lowercase hex id body: `i-`/`sg-` + 8 hex (4 random bytes). */
export type RandomHex = (bytes: number) => string;

/** EC2's limit on an instance's user data, in bytes before base64 encoding. */
export const USER_DATA_MAX_BYTES = 16 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * An instance's user data as given: base64 (line breaks and blanks between
 * groups allowed, padding optional, as EC2 takes it), at most
 * USER_DATA_MAX_BYTES decoded. Returns the canonical base64 text (padded, one
 * line), or undefined when none or empty (EC2: no user data). Codes and
 * wording are EC2's (InvalidParameterValue), for the admin API and the EC2
 * endpoint alike.
 */
export function userDataArgument(value: unknown): string | undefined {
  const text = optionalString(value, 'userData');
  if (text === undefined) return undefined;
  const compact = text.replace(/\s+/g, '');
  if (compact === '') return undefined;
  if (!BASE64.test(compact)) throw new UserError('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > USER_DATA_MAX_BYTES) throw new UserError('InvalidParameterValue', `User data is limited to ${USER_DATA_MAX_BYTES} bytes (got ${bytes.length} after base64 decoding)`);
  return bytes.toString('base64');
}
