/**
 * The shape of one CLI subcommand. It lives here, not in cli/main.ts, so that the commands
 * do not import the entry point that imports them (an import cycle).
 */
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from '../context';

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
