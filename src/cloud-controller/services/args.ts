/**
 * Argument checks shared by the state services. Each throws a UserError with a
 * stable code before anything is written, so a bad argument changes nothing.
 */
import { UserError } from '../../shared/errors.ts';
import { parseIp } from '../../shared/ip.ts';

export const DEFAULT_OWNER = '000000000001';

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

/** An account number: 12 digits (EC2 style). */
export function accountId(value: unknown, field = 'owner'): string {
  if (value === undefined || value === null || value === '') return DEFAULT_OWNER;
  if (typeof value !== 'string' || !/^\d{12}$/.test(value)) {
    throw new UserError('InvalidParameterValue', `${field} must be a 12-digit account number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function ipArgument(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (parseIp(text) === undefined) throw new UserError('InvalidParameterValue', `${field} must be an IPv4 address, got ${JSON.stringify(text)}`);
  return text;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function nameArgument(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (!NAME.test(text)) {
    throw new UserError('InvalidParameterValue', `${field} must be 1-64 characters of letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(text)}`);
  }
  return text;
}

export function urlArgument(value: unknown, field: string): URL {
  const text = requireString(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError('InvalidParameterValue', `${field} must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError('InvalidParameterValue', `${field} must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  return url;
}

/** Random lowercase hex id body: `i-`/`sg-` + 8 hex (4 random bytes). */
export type RandomHex = (bytes: number) => string;
