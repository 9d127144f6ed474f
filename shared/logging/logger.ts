/**
 * One JSON line per log entry, with the tenant, run id and object id as fields.
 *
 * Never pass tokens, keys, passwords or decrypted callback bodies. As a second line of
 * defence, fields whose names look secret are replaced with "[redacted]" before writing.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_FIELD = /pass(word)?|secret|token|private|aes|sign(ature)?$|^enc$|authorization|cookie|ticket|credential/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` (tenant, runId, function...). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  fields?: LogFields;
  /** Where lines go; defaults to stdout (CloudWatch reads it on Lambda). */
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env.LOG_LEVEL?.toLowerCase();
  const level: LogLevel = options.level ?? (envLevel && envLevel in LEVELS ? (envLevel as LogLevel) : 'info');
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = options.fields ?? {};

  const emit = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[lvl] < LEVELS[level]) return;
    const entry = { level: lvl, time: new Date().toISOString(), msg, ...redact(base), ...redact(fields ?? {}) };
    write(JSON.stringify(entry, errorReplacer));
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, write, fields: { ...base, ...fields } }),
  };
}

/** Replace values of secret-looking keys, recursively (one level of arrays and objects). */
export function redact(fields: LogFields, depth = 0): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k)) out[k] = '[redacted]';
    else if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error) && depth < 3) out[k] = redact(v as LogFields, depth + 1);
    else out[k] = v;
  }
  return out;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as Error & { code?: string; retryable?: boolean };
    // Stack traces are useful to operators and carry no request data.
    return { name: e.name, message: e.message, code: e.code, retryable: e.retryable, stack: e.stack };
  }
  return value;
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}
