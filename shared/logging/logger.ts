/**
 * One JSON line per log entry, with the tenant, run id and object id as fields.
 *
 * Built on Powertools Logger (@aws-lambda-powertools/logger): its level handling (including
 * Lambda's Advanced Logging Controls, AWS_LAMBDA_LOG_LEVEL), X-Ray trace ids, child loggers
 * and JSON serialisation (errors, bigint, circular references). Our API (`createLogger`,
 * `Logger`) and our line shape `{level, time, msg, ...fields}` stay, so call sites and the
 * tests that read lines do not change: a custom LogFormatter produces that shape.
 *
 * Never pass tokens, keys, passwords or decrypted callback bodies. As a second line of
 * defence, any key whose name looks secret is written as "[redacted]", at any depth: inside
 * nested objects, arrays, arrays of arrays, and the result of a value's toJSON(). The check runs
 * inside the JSON serialisation of the finished line (see `printLog`), so every field (persistent
 * child fields and per-call fields alike) passes through it and no path around it reaches the
 * output. Powertools has no redaction of its own.
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_FIELD = /pass(word)?|secret|token|private|aes|sign(ature)?$|^enc$|authorization|cookie|ticket|credential/i;

/** Keys Powertools reserves for itself (it drops them with a warning); ours are renamed instead. */
const RESERVED = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

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

type Write = (line: string) => void;

/** Our line shape: `{level, time, msg, xrayTraceId?, requestId?, ...redacted fields}`. */
class BridgeLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const ctx = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel.toLowerCase(),
        time: attributes.timestamp.toISOString(),
        msg: attributes.message,
        ...(attributes.xRayTraceId ? { xrayTraceId: attributes.xRayTraceId } : {}),
        ...(ctx ? { awsRequestId: ctx.awsRequestId } : {}),
        ...additional,
      },
    });
  }

  override formatError(error: Error): LogAttributes {
    const e = error as Error & { code?: string; retryable?: boolean };
    // Stack traces are useful to operators and carry no request data.
    return { name: e.name, message: e.message, code: e.code, retryable: e.retryable, stack: e.stack };
  }
}

/** Powertools Logger writing through `write` (stdout, or memory in tests) instead of its Console. */
class BridgeLogger extends PowertoolsLogger {
  constructor(
    private readonly write: Write,
    options: ConstructorParameters<typeof PowertoolsLogger>[0],
  ) {
    super(options);
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    // Not log.prepareForPrint(): it drops '' and null values, which our lines have always kept.
    this.write(JSON.stringify(log.getAttributes(), redactingReplacer(this.getJsonReplacer())));
  }

  protected override createLogger(options?: ConstructorParameters<typeof PowertoolsLogger>[0]): PowertoolsLogger {
    return new BridgeLogger(this.write, options);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env.LOG_LEVEL?.toLowerCase();
  const level: LogLevel = options.level ?? (envLevel && envLevel in LEVELS ? (envLevel as LogLevel) : 'info');
  const write = options.write ?? ((line: string) => void process.stdout.write(line + '\n'));
  const pt = new BridgeLogger(write, {
    logLevel: level.toUpperCase() as 'INFO',
    logFormatter: new BridgeLogFormatter(),
    persistentKeys: unreserved(options.fields ?? {}),
  });
  return wrap(() => pt, LEVELS[level]);
}

/**
 * Children are made lazily, and a call below the level never reaches Powertools: a Powertools
 * child reads its settings from the environment when it is constructed, and handlers make a
 * child per request (tenant, request id) whether or not they log. Eager children cost the SSO
 * redirect ~0.1 ms of CPU per request and a fifth of its throughput at concurrency 8
 * (`npm run bench -- sso`, issue 8's before/after).
 */
function wrap(get: () => PowertoolsLogger, threshold: number): Logger {
  const at = (level: LogLevel, m: string, f: LogFields | undefined) => {
    if (LEVELS[level] < threshold) return;
    get()[level](m, unreserved(f));
  };
  return {
    debug: (m, f) => at('debug', m, f),
    info: (m, f) => at('info', m, f),
    warn: (m, f) => at('warn', m, f),
    error: (m, f) => at('error', m, f),
    child: (fields) => {
      const bound = { ...unreserved(fields) }; // as they are now, not when the child first logs
      let child: PowertoolsLogger | undefined;
      return wrap(() => (child ??= get().createChild({ persistentKeys: bound })), threshold);
    },
  };
}

/** Powertools would drop a field named like one of its own keys; keep it as `<key>_`. */
function unreserved(fields: LogFields | undefined): LogFields {
  if (!fields) return {};
  let out: LogFields | undefined;
  for (const k of Object.keys(fields)) {
    if (!RESERVED.has(k)) continue;
    out ??= { ...fields };
    out[`${k}_`] = out[k];
    delete out[k];
  }
  return out ?? fields;
}

type JsonReplacer = (this: unknown, key: string, value: unknown) => unknown;

/**
 * Wraps Powertools' JSON replacer so that the value of every secret-looking key is written as
 * "[redacted]". JSON.stringify calls a replacer for every key of every object it writes, at any
 * depth and inside arrays, after calling toJSON(), so this covers whatever a caller passes without
 * a walk of our own. Hence no depth or size bound is needed here: nothing is copied, and cycles are
 * cut by Powertools' replacer (it tracks the ancestors of the value being written and drops a
 * value that is its own ancestor). An Error becomes `formatError`'s fields (name, message, code,
 * retryable, stack), and those keys pass through this check too.
 */
function redactingReplacer(inner: JsonReplacer): JsonReplacer {
  return function (this: unknown, key: string, value: unknown): unknown {
    // key '' is the line itself; array items have numeric keys, which never look secret.
    if (key !== '' && SECRET_FIELD.test(key)) return '[redacted]';
    return inner.call(this, key, value);
  };
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}
