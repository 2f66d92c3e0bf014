/**
 * Logging (winston). Daemons log JSON lines (one object per line: time, level,
 * component, message, context fields) so logs can be shipped and grepped; on a
 * terminal they print a short readable line instead. EDGENET_LOG_FORMAT=json|text
 * and EDGENET_LOG_LEVEL=debug|info|warn|error override the defaults.
 */
import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  readonly component: string;
  readonly level?: string;
  readonly format?: 'json' | 'text';
  /** Also append JSON lines to this file. */
  readonly file?: string;
  /** Write to stderr (default) — keeps stdout free for command output. */
  readonly silent?: boolean;
}

export function createLogger(options: LoggerOptions, env: NodeJS.ProcessEnv = process.env): Logger {
  const level = options.level ?? env.EDGENET_LOG_LEVEL ?? 'info';
  const wanted = options.format ?? (env.EDGENET_LOG_FORMAT as 'json' | 'text' | undefined) ?? (process.stderr.isTTY ? 'text' : 'json');
  const text = winston.format.printf((info) => {
    const { level: lvl, message, timestamp, component, ...rest } = info as Record<string, unknown>;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${String(timestamp)} ${String(lvl).padEnd(5)} [${String(component)}] ${String(message)}${extra}`;
  });
  const transports: winston.transport[] = [
    new winston.transports.Stream({
      stream: process.stderr,
      format: wanted === 'json' ? winston.format.json() : text,
    }),
  ];
  if (options.file) {
    transports.push(new winston.transports.File({ filename: options.file, format: winston.format.json() }));
  }
  return winston.createLogger({
    level,
    silent: options.silent ?? false,
    defaultMeta: { component: options.component },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false })),
    transports,
  });
}

/** A logger that drops everything (unit tests). */
export function nullLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
