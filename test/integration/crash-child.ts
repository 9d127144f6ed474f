/**
 * The child process of sync-crash.test.ts: the local stack (local/stack.ts) WITHOUT its
 * vendor simulators, which the test runs in its own process so that a SIGKILL of this one
 * takes down only the bridge (its DynamoDB on disk, its in-memory SQS, its functions), as a
 * crash of the Lambdas would, never "NetEase" or "EKP". Configured by the environment
 * (QIYE_TENANTS_FILE, QIYE_DATA_DIR, ports, QIYE_SYNC_RATE_MINUTES, QIYE_SYNC_STUCK_SECONDS).
 * Prints `READY <gateway url>` once it serves.
 */
import { startLocalStack } from '../../local/stack';

const stack = await startLocalStack({ simulators: [] });
process.stdout.write(`READY ${stack.urls.gateway}\n`);
const stop = () => void stack.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
