/** One CLI command: what `npx qiye-bridge <name>` runs (cli/main.ts dispatches to it). */
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context';

export interface Command {
  /** e.g. "keys generate" */
  name: string;
  summary: string;
  usage: string;
  options?: ParseArgsConfig['options'];
  /** Number of positional arguments allowed after the command words. */
  positionals?: number;
  run(args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, ctx: CliContext): Promise<number | void>;
}
