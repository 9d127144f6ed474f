/**
 * `qiye-bridge`: the operator's command line. Each subcommand lives in cli/commands/ and
 * calls the same use cases as the admin API.
 */
import { parseArgs } from 'node:util';
import { isAppError, ConfigError } from '../shared/errors/app-error';
import { createContext, flushContext, type CliContext, type CliIo } from './context';
import type { Command } from './commands/command';
import { commands } from './commands/index';
import { quietSdkNodeWarning } from './node-warning';

const GLOBAL_OPTIONS = {
  stage: { type: 'string' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'qiye-bridge: operate Qiye Mail Bridge',
    '',
    'Usage: npx qiye-bridge <command> [options] [--stage <stage>]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  --stage <stage>  "local" (default): the local stack (.data/, config/tenants.local.json).',
    '                   Any other stage: the deployed stack in the current AWS account (config/tenants.json).',
    '  -h, --help       Help for a command: npx qiye-bridge <command> --help',
  ].join('\n');
}

/** The commands of a group ("keys": keys generate, keys import, ...), each with its usage. */
export function groupHelpText(group: string): string | undefined {
  const members = commands.filter((c) => c.name.split(' ')[0] === group && c.name !== group);
  if (members.length === 0) return undefined;
  return [
    `qiye-bridge ${group}: ${members.length} commands`,
    '',
    ...members.flatMap((c) => [`  ${c.name}  ${c.summary}`, `    Usage: ${c.usage.replace(/\n/g, '\n    ')}`, '']),
    `Help for one: npx qiye-bridge ${members[0]!.name} --help`,
  ].join('\n');
}

function findCommand(words: readonly string[]): Command | undefined {
  // Longest command name matching the leading words ("keys generate" before "keys").
  return [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length).find((c) => c.name.split(' ').every((w, i) => words[i] === w));
}

export async function main(argv: string[], io: CliIo = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) }): Promise<number> {
  // One line instead of the AWS SDK's 9-line Node 20 warning (cli/node-warning.ts).
  quietSdkNodeWarning();
  // `help <command>` is `<command> --help`.
  if (argv[0] === 'help' && argv.length > 1) argv = [...argv.slice(1), '--help'];
  const words = argv.filter((a) => !a.startsWith('-'));
  const cmd = findCommand(words);
  if (!cmd) {
    const wantsHelp = argv.includes('--help') || argv.includes('-h');
    const group = words[0] === undefined ? undefined : groupHelpText(words[0]);
    if (group && wantsHelp && words.length === 1) {
      io.out(group);
      return 0;
    }
    if (argv.length === 0 || (wantsHelp && words.length === 0) || argv[0] === 'help') {
      io.out(helpText());
      return 0;
    }
    io.err(`${group && words.length === 1 ? `"${words[0]}" needs a subcommand` : `Unknown command: ${words.slice(0, 2).join(' ') || argv.join(' ')}`}\n`);
    io.err(group ?? helpText());
    return 2;
  }
  const rest = dropWords(argv, cmd.name.split(' ').length);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${(err as Error).message}\n\nUsage: ${cmd.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(`${cmd.summary}\n\nUsage: ${cmd.usage}`);
    return 0;
  }
  if (parsed.positionals.length > (cmd.positionals ?? 0)) {
    io.err(`Unexpected argument: ${parsed.positionals.slice(cmd.positionals ?? 0).join(' ')}\n\nUsage: ${cmd.usage}`);
    return 2;
  }
  const ctx = createContext(String(parsed.values.stage ?? 'local'), io);
  try {
    const code = await cmd.run({ values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals }, ctx);
    return code ?? 0;
  } catch (err) {
    if (err instanceof ConfigError) io.err(err.message);
    else if (isAppError(err)) io.err(`Error (${err.code}): ${err.message}`);
    else io.err(`Error: ${(err as Error).message ?? String(err)}`);
    return 1;
  } finally {
    // The vendor calls the command made are counted against the month's budget (shared/wiring/usage.ts).
    await flushContext(ctx);
  }
}

/** Remove the first `n` non-option words (the command name) from argv. */
function dropWords(argv: string[], n: number): string[] {
  const out: string[] = [];
  let dropped = 0;
  for (const a of argv) {
    if (dropped < n && !a.startsWith('-')) {
      dropped++;
      continue;
    }
    out.push(a);
  }
  return out;
}

// Run directly: `tsx cli/main.ts ...` (npm run cli -- ...).
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
