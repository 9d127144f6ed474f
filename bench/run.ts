/**
 * `npm run bench -- <suite>`: runs one benchmark suite from bench/suites/<suite>.ts and
 * prints its Markdown table followed by a one-line summary. Each suite exports
 * `run(): Promise<{ table: string; summary: string }>` and measures something real
 * (servers on loopback, real handlers), never a constant.
 */
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quietSdkNodeWarning } from '../cli/node-warning';

export interface BenchResult {
  table: string;
  summary: string;
}

const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');

function listSuites(): string[] {
  return readdirSync(suitesDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

async function main(): Promise<number> {
  // One line instead of the AWS SDK's 9-line Node 20 warning (cli/node-warning.ts).
  quietSdkNodeWarning();
  const name = process.argv[2];
  const suites = listSuites();
  if (!name || name === '--help' || name === '-h') {
    console.log(`Usage: npm run bench -- <suite>\nSuites: ${suites.join(', ') || '(none yet)'}`);
    return name ? 0 : 2;
  }
  if (!suites.includes(name)) {
    console.error(`Unknown suite "${name}". Suites: ${suites.join(', ')}`);
    return 2;
  }
  const mod = (await import(join(suitesDir, `${name}.ts`))) as { run: () => Promise<BenchResult> };
  const started = Date.now();
  const result = await mod.run();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n## bench: ${name}\n`);
  console.log(`Machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; wall ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  console.log(result.table.trimEnd());
  console.log('');
  console.log(result.summary);
  return 0;
}

process.exitCode = await main();
