/**
 * CDK entry (`cdk.json`: `npx tsx infra/app.ts`). Reads and validates the context and the
 * tenant config, then builds the stacks. A bad config stops here with every problem
 * listed (file, path, reason) and a non-zero exit, before anything is synthesized.
 */
import { App } from 'aws-cdk-lib';
import { isAppError } from '../shared/errors/app-error';
import { applyNagChecks, defineBridgeApp } from './bridge-app';
import { loadDeployTenants, readDeployConfig } from './deploy-config';

function main(): void {
  const app = new App();
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  const tenants = loadDeployTenants(config.tenantsFile);
  defineBridgeApp(app, config, tenants);
  if (config.nag) applyNagChecks(app);
  app.synth();
}

try {
  main();
} catch (err) {
  if (isAppError(err) && err.code === 'CONFIG.INVALID') {
    // The message already lists every problem; a stack trace would only bury it.
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
