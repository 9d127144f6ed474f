import type { Command } from './command';
import { configValidate, tenantsList } from './config';
import { consoleLink } from './console';
import { keysGenerate, keysImport, keysInspect, keysShow } from './keys';
import { secretsSet } from './secrets';
import { simulateCallback } from './simulate';
import { ssoLink } from './sso-link';
import { syncCommands } from './sync';
import { linksCommands } from './links';
import { usageCommand } from './usage';

/** Every subcommand, in the order `--help` lists them. */
export const commands: Command[] = [configValidate, tenantsList, keysGenerate, keysImport, keysInspect, keysShow, secretsSet, ssoLink, consoleLink, ...syncCommands, ...linksCommands, usageCommand, simulateCallback];
