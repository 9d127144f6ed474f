import type { Command } from '../main';
import { configValidate, tenantsList } from './config';

/** Every subcommand; later features add theirs here. */
export const commands: Command[] = [configValidate, tenantsList];
