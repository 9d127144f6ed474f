/**
 * `npm start`: the whole bridge on this machine (see local/stack.ts and local/README.md).
 *
 * Environment (all optional): QIYE_TENANTS_FILE (config/tenants.local.json), QIYE_DATA_DIR
 * (.data), QIYE_PORT (3000), QIYE_SSO_PORT (3001), QIYE_DYNAMODB_PORT (3110), QIYE_SQS_PORT
 * (3111), QIYE_LOCAL_VISIBILITY_SECONDS, QIYE_SYNC_RATE_MINUTES, QIYE_SYNC_STUCK_SECONDS, QIYE_SYNC_OP_LEASE_SECONDS, LOG_LEVEL, QIYE_SKIP_FIRST_SYNC=1
 * (skip the sandbox tenants' initial full syncs on the first start; local/first-sync.ts).
 *
 * Exit codes: 0 after a clean stop (Ctrl-C / SIGTERM), 1 when the stack cannot start.
 */
import { relative } from 'node:path';
import { ConfigError, isAppError } from '../shared/errors/app-error';
import { startLocalStack, type LocalStack } from './stack';
import { runFirstSyncs } from './first-sync';
import { dingtalkSignInUrl } from './first-links';
import { linkedChannels } from '../shared/config/channels';
import { breakGlassLink } from '../cli/commands/console';
import { quietSdkNodeWarning } from '../cli/node-warning';

async function main(): Promise<void> {
  // One line instead of the AWS SDK's 9-line Node 20 warning (cli/node-warning.ts).
  quietSdkNodeWarning();
  let stack: LocalStack;
  try {
    stack = await startLocalStack();
  } catch (err) {
    process.stderr.write(`\nThe local stack did not start.\n${describeError(err)}\n`);
    process.exit(1);
  }
  // The local admin's sign-in link: a break-glass link valid for a day (`npx qiye-bridge console link` makes another).
  const adminLink = await breakGlassLink(stack.clients.secrets, stack.stage, stack.urls.gateway, 'local-admin', 24 * 3600_000).catch((err: unknown) => `(not available: ${describeError(err)})`);
  process.stdout.write(banner(stack, adminLink));

  let stoppingSince = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // Ctrl-C reaches every process of the group, and tsx also relays it to this one, so
      // one key press can arrive twice within milliseconds: only a later one means "force".
      if (Date.now() - stoppingSince < 2_000) return;
      process.stderr.write(`${signal} again: exiting without waiting (queued messages not saved).\n`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stdout.write(`\n${signal}: stopping (waiting for invocations in progress, saving queued messages)...\n`);
    stack.stop().then(
      () => {
        process.stdout.write('Stopped. Data kept in ' + rel(stack.dataDir) + '\n');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`Stop failed: ${describeError(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // First start only: the sandbox tenants' initial full syncs and their summaries
  // (QIYE_SKIP_FIRST_SYNC=1 skips them). After the signal handlers, so Ctrl-C during them
  // still stops cleanly.
  if (!stoppingSince && process.env.QIYE_SKIP_FIRST_SYNC !== '1') {
    await runFirstSyncs(stack, { out: (l) => process.stdout.write(`${l}\n`) }).catch((err: unknown) => {
      process.stderr.write(`The initial sync did not complete: ${describeError(err)}\n`);
    });
  }
}

function describeError(err: unknown): string {
  if (err instanceof ConfigError) return err.message; // already lists every problem (file: path: reason)
  if (isAppError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function rel(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

function banner(s: LocalStack, adminLink: string): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(19)} ${v}`);
  lines.push('', 'Qiye Mail Bridge: local stack is running (stage "local")', '');
  row('HTTP API', s.urls.gateway);
  row('Health', s.urls.health);
  row('Console', `${s.urls.gateway}/console`);
  row('Console admin', `${adminLink}  (one-time, 24 h; sandbox alerts go to the DingTalk simulator: ${s.urls.simulators.find((x) => x.vendor === 'dingtalk')?.url ?? '-'}/__sim/messages)`);
  row('SSO function URL', `${s.urls.functionUrl}/sso/<tenant>`);
  for (const sim of s.urls.simulators) row(`${sim.vendor} simulator`, `${sim.url}  (tenants: ${sim.tenants.join(', ')})`);
  row('DynamoDB', `${s.urls.dynamodb}  table ${s.tableName} (${s.table === 'created' ? 'created' : 'reused'}; dynalite: no TTL sweeps, no transactions)`);
  row('SQS', `${s.urls.sqs}  queues: ${Object.values(s.queues).map((q) => q.name).join(', ')} (+ DLQs)`);
  const restored = Object.values(s.restoredMessages).reduce((a, b) => a + b, 0);
  if (restored > 0) row('', `${restored} queued message(s) restored from the last run`);
  for (const r of s.scheduleRates) row('Schedule', `${r.fn} every ${r.rateMinutes} min (run now: curl -X POST ${s.urls.gateway}/_local/trigger/${r.fn})`);
  row('Tenants', `${rel(s.tenantsFile)}: ${s.tenants.tenants.map((t) => t.id).join(', ')}`);
  const first = s.tenants.tenants[0]?.id;
  if (first) row('Sign in (SSO)', `npx qiye-bridge sso-link --tenant ${first} --user <source person id>  (ids: npx qiye-bridge mappings list --tenant ${first})`);
  // Tenants whose DingTalk users are linked to source people (the EKP sandbox): the workbench sign-in.
  for (const t of s.tenants.tenants) {
    const dt = linkedChannels(t).find((c) => c.vendor === 'dingtalk');
    if (!dt) continue;
    row('Sign in (DingTalk)', `${dingtalkSignInUrl(s.urls.functionUrl, t.id, dt.id)}  (${t.id}: pick a linked person on the DingTalk simulator's page; who is linked: npx qiye-bridge links list --tenant ${t.id})`);
  }
  row('Data', `${rel(s.dataDir)} (secrets in ${rel(s.dataDir)}/secrets.json; values are never printed)`);
  const failed = Object.entries(s.handlerErrors);
  if (failed.length > 0) {
    lines.push('', '  Functions that failed to load (their requests answer 500):');
    for (const [fn, why] of failed) lines.push(`    - ${fn}: ${why}`);
  }
  lines.push('', '  Stop with Ctrl-C (queued messages are saved and restored on the next start).', '');
  return lines.join('\n') + '\n';
}

void main();
