/**
 * The shape of one CLI subcommand. It lives here, not in cli/main.ts, so that the commands
 * do not import the entry point that imports them (an import cycle).
 */
import type { ParseArgsConfig } from 'node:util';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { ValidationError } from '../../shared/errors/app-error';
import type { CliContext } from '../context';

/** The parsed command line a command runs with. */
export interface CommandArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** e.g. "keys generate" */
  name: string;
  summary: string;
  usage: string;
  options?: ParseArgsConfig['options'];
  /** Number of positional arguments allowed after the command words. */
  positionals?: number;
  run(args: CommandArgs, ctx: CliContext): Promise<number | void>;
}

/** What a tenant command's `run` gets besides the parsed command line. */
export interface TenantCommandArgs extends CommandArgs {
  /** The tenant named by `--tenant`, from the stage's tenants file. */
  tenant: TenantConfig;
  tenantId: string;
  /** `--run <run-id>`, for commands declared with `takesRun` (otherwise ''). */
  runId: string;
  /** The positional argument, for commands declared with `requires` (otherwise ''). */
  argument: string;
}

/** A command that acts on one tenant: `npx qiye-bridge <name> --tenant <id> [--run <run-id>] <args> [--stage <stage>]`. */
export interface TenantCommandSpec {
  name: string;
  summary: string;
  /**
   * The usage words after `--tenant <id>` (and `--run <run-id>`), e.g. `[--file <path>] [--json]`.
   * They also declare the options (see optionsOf): `--name <value>` takes a string, a lone
   * `--name` is a boolean flag.
   */
  args?: string;
  /** Lines printed under the usage line. */
  notes?: string[];
  /** False for a command that reads nothing of the stage (its usage then omits `[--stage <stage>]`). */
  stage?: boolean;
  /** The command requires `--run <run-id>`, handed to `run` as `runId`. */
  takesRun?: boolean;
  /**
   * The command requires one positional argument, the first `<…>` word of `args`: what it is
   * (e.g. `run id`), for the error when it is missing. It is handed to `run` as `argument`.
   */
  requires?: string;
  positionals?: number;
  run(args: TenantCommandArgs, ctx: CliContext): Promise<number | void>;
}

/**
 * A tenant command: declares `--tenant` (and `--run`), writes the usage line from the spec,
 * and resolves the tenant (then the run id) before `run`, so an unknown tenant or a missing
 * `--run` is refused the same way by every command, before anything is read or written.
 */
export function tenantCommand(spec: TenantCommandSpec): Command {
  const words = ['npx qiye-bridge', spec.name, '--tenant <id>', spec.takesRun ? '--run <run-id>' : '', spec.args ?? '', spec.stage === false ? '' : '[--stage <stage>]'];
  return {
    name: spec.name,
    summary: spec.summary,
    usage: [words.filter(Boolean).join(' '), ...(spec.notes ?? []).map((n) => `  ${n}`)].join('\n'),
    options: { tenant: { type: 'string' }, ...(spec.takesRun ? { run: { type: 'string' } } : {}), ...optionsOf(spec.args ?? '') },
    ...(spec.positionals || spec.requires ? { positionals: spec.positionals ?? 1 } : {}),
    async run(args, ctx) {
      const tenant = ctx.tenant(args.values.tenant as string | undefined);
      const runId = spec.takesRun ? requiredRunId(args.values) : '';
      const argument = args.positionals[0] ?? '';
      if (spec.requires && !argument) {
        throw new ValidationError(`The ${spec.requires} is required: ${spec.name} --tenant <id> ${/<[^>]*>/.exec(spec.args ?? '')?.[0] ?? ''}.`);
      }
      return spec.run({ ...args, tenant, tenantId: tenant.id, runId, argument }, ctx);
    },
  };
}

function requiredRunId(values: CommandArgs['values']): string {
  if (typeof values.run !== 'string' || !values.run) throw new ValidationError('--run <run-id> is required.');
  return values.run;
}

/**
 * The parseArgs options a usage text declares, so the usage and the parser cannot disagree
 * (commander's convention): `--name` followed by a value word (`<path>`, `links.csv`,
 * `1024|2048`) is a string option; `--name` followed by nothing, `]`, `|` or another option is
 * a boolean flag. Words that are not options (`<run-id>` positionals) declare nothing.
 */
export function optionsOf(usage: string): NonNullable<ParseArgsConfig['options']> {
  const words = usage.split(/[\s[\]()]+/).filter(Boolean);
  const options: NonNullable<ParseArgsConfig['options']> = {};
  words.forEach((w, i) => {
    if (!w.startsWith('--')) return;
    const next = words[i + 1];
    options[w.slice(2)] = { type: next !== undefined && next !== '|' && !next.startsWith('--') ? 'string' : 'boolean' };
  });
  return options;
}
