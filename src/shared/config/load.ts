/**
 * Reads a daemon's config file through the one parser (conf-file.ts). No
 * file given: an empty one. A file that cannot be read is a ConfigError
 * (exit 2) naming the file.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.ts';
import { parseConfText, type ConfFile } from './conf-file.ts';
import { errorMessage } from '../errors.ts';

export function loadConfFile(file: string | undefined): ConfFile {
  if (file === undefined) return parseConfText('', '');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(err)}`, [], { cause: err, code: 'CONFIG_UNREADABLE' });
  }
  return parseConfText(text, file);
}

/** Cloud-wide environment names every daemon's LOG_LEVEL / LOG_FORMAT also accept. */
export const LOG_ALIASES: Readonly<Record<string, readonly string[]>> = {
  LOG_LEVEL: ['EDGENET_LOG_LEVEL'],
  LOG_FORMAT: ['EDGENET_LOG_FORMAT'],
};

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];
