import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/qiye-bridge.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs a CLI command that builds a real Secrets Manager client (keys show on a deployed stage,
 * pointed at a closed local port so nothing leaves the machine) and returns its stderr lines.
 */
async function keysShow(extraEnv: Record<string, string> = {}): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1', ...extraEnv };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  Object.assign(env, extraEnv);
  const res = await run(process.execPath, [BIN, 'keys', 'show', '--tenant', 'acme', '--stage', 'prod'], { cwd: ROOT, env, timeout: 60_000 }).catch((e: { stdout: string; stderr: string; code: number }) => e);
  // The command reached Secrets Manager (the closed port refuses it): the SDK client was built.
  expect(res.stderr).toContain('AWS.SECRETS_MANAGER');
  return res.stderr.split('\n').filter((l) => l.trim() !== '');
}

const sdkWarningLines = (lines: string[]) => lines.filter((l) => /NodeVersionSupportWarning|AWS SDK|node >=22|a\.co\/|trace-warnings|upgrade to node/i.test(l));

describe('CLI: the AWS SDK Node version warning', () => {
  it.skipIf(Number(process.versions.node.split('.')[0]) >= 22)('prints one short line instead of the SDK\'s nine on Node 20', async () => {
    const warning = sdkWarningLines(await keysShow());
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/^note: the AWS SDK needs Node >= 22 .*nodejs22\.x/);
  });

  it('prints nothing with the SDK\'s own switch AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true', async () => {
    expect(sdkWarningLines(await keysShow({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }))).toEqual([]);
  });
});
