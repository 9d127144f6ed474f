import type { Command } from '../main';
import { configValidate, tenantsList } from './config';
import { keysGenerate, keysImport, keysShow } from './keys';
import { ssoLink } from './sso-link';
import { syncCommands } from './sync';

/** Every subcommand; later features add theirs here. */
export const commands: Command[] = [configValidate, tenantsList, keysGenerate, keysImport, keysShow, ssoLink, ...syncCommands];
