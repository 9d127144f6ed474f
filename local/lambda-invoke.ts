/**
 * Invoke a Lambda handler in-process the way the Lambda runtime would: with a Context
 * (function name, request id, getRemainingTimeInMillis) and the function's timeout.
 *
 * A handler that runs past its timeout is reported as failed ("Task timed out"), as in
 * Lambda; unlike Lambda the local process cannot freeze it, so its late result is
 * discarded and logged.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { FunctionName } from '../shared/contracts/app-manifest';
import { AppError } from '../shared/errors/app-error';
import type { Logger } from '../shared/logging/logger';

/** Any Lambda handler: `(event, context) => result` (async). */
export type LambdaHandler = (event: any, context: Context) => unknown;

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

export interface InvokeTarget {
  name: FunctionName | string;
  timeoutSeconds: number;
  memoryMb: number;
  stage: string;
}

export class LambdaTimeoutError extends AppError {
  constructor(fn: string, seconds: number) {
    super('LOCAL.TASK_TIMED_OUT', `${fn}: Task timed out after ${seconds.toFixed(2)} seconds`, { retryable: true });
  }
}

export function physicalFunctionName(stage: string, fn: string): string {
  return `qiye-bridge-${stage}-${fn}`;
}

export function makeContext(target: InvokeTarget, deadline: number, requestId = randomUUID()): Context {
  const fnName = physicalFunctionName(target.stage, target.name);
  const unsupported = (what: string) => () => {
    throw new Error(`context.${what}() is not supported: return a value or a promise from the handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fnName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${fnName}`,
    memoryLimitInMB: String(target.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fnName}`,
    logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

/**
 * Run `handler(event, context)` with the function's timeout.
 * @throws whatever the handler throws, or LambdaTimeoutError.
 */
export async function invokeHandler(target: InvokeTarget, handler: LambdaHandler, event: unknown, logger?: Logger): Promise<unknown> {
  const timeoutMs = target.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const context = makeContext(target, deadline);
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const run = Promise.resolve().then(() => handler(event, context));
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new LambdaTimeoutError(target.name, target.timeoutSeconds));
    }, timeoutMs);
  });
  run.then(
    () => timedOut && logger?.warn('late result of a timed-out invocation discarded', { function: target.name, requestId: context.awsRequestId }),
    () => undefined,
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
