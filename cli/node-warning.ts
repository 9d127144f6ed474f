/**
 * The AWS SDK v3 (@aws-sdk/core emitWarningIfUnsupportedVersion) warns once per process, in 8
 * lines plus Node's "--trace-warnings" hint, that its releases after the first week of
 * January 2027 need Node >= 22. Every CLI command that builds an SDK client printed it. The
 * deployment runs nodejs22.x; local development runs Node 20, where the warning is expected.
 *
 * The SDK's own switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true) silences it
 * completely and still works: nothing is printed then. Without it, the CLI replaces that one
 * warning (and only that one: every other warning goes to Node as before) with one line, so
 * an operator still learns why package-lock.json pins the SDK.
 */
const INSTALLED = Symbol.for('qiye-bridge.sdkNodeWarning');

export const SDK_NODE_WARNING_LINE = 'note: the AWS SDK needs Node >= 22 for its releases after early January 2027; this is Node {version} (fine for local use: the deployment runs nodejs22.x, and package-lock.json pins the SDK).';

export function quietSdkNodeWarning(write: (line: string) => void = (line) => void process.stderr.write(line + '\n')): void {
  const proc = process as NodeJS.Process & { [INSTALLED]?: true };
  if (proc[INSTALLED]) return;
  proc[INSTALLED] = true;
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (typeof text === 'string' && text.startsWith('NodeVersionSupportWarning')) {
      write(SDK_NODE_WARNING_LINE.replace('{version}', process.version));
      return;
    }
    original(warning, ...rest);
  }) as typeof process.emitWarning;
}
