import { readFile } from 'node:fs/promises';
import { generateTenantKey, importTenantKey, inspectKey, showTenantKey, type TenantPublicKey } from '../../shared/use-cases/manage-keys';
import { ValidationError } from '../../shared/errors/app-error';
import { secretStoreFor, type CliContext } from '../context';
import type { Command } from './command';

function printPublicKey(ctx: CliContext, k: TenantPublicKey, action: string): void {
  ctx.out(`${action} for tenant ${k.tenantId} (${k.bits}-bit RSA). Register this public key with NetEase:`);
  ctx.out('');
  ctx.out(k.publicKeyHex);
  ctx.out('');
  ctx.out(k.publicKeyPem.trim());
  ctx.out('');
  ctx.out(`fingerprint (SHA-256 of the DER): ${k.fingerprint}`);
}

export const keysGenerate: Command = {
  name: 'keys generate',
  summary: "Generate the tenant's NetEase RSA key pair; store the private key, print the public key.",
  usage: 'npx qiye-bridge keys generate --tenant <id> [--bits 1024|2048] [--stage <stage>]',
  options: { tenant: { type: 'string' }, bits: { type: 'string' } },
  async run({ values }, ctx) {
    const tenant = ctx.tenant(values.tenant as string | undefined);
    const bits = values.bits === undefined ? tenant.netease.keyBits : Number(values.bits);
    if (bits !== 1024 && bits !== 2048) throw new ValidationError('--bits must be 1024 or 2048.');
    const key = await generateTenantKey({ secrets: await secretStoreFor(ctx), stage: ctx.stage, tenantId: tenant.id, bits });
    printPublicKey(ctx, key, 'New key stored');
  },
};

export const keysImport: Command = {
  name: 'keys import',
  summary: 'Import an existing private key (hex DER PKCS#8/PKCS#1 or PEM) for the tenant.',
  usage: 'npx qiye-bridge keys import --tenant <id> --file <path> [--stage <stage>]',
  options: { tenant: { type: 'string' }, file: { type: 'string' } },
  async run({ values }, ctx) {
    const tenant = ctx.tenant(values.tenant as string | undefined);
    if (typeof values.file !== 'string') throw new ValidationError('--file <path> is required (the private key file).');
    const keyText = await readFile(values.file, 'utf8');
    const key = await importTenantKey({ secrets: await secretStoreFor(ctx), stage: ctx.stage, tenantId: tenant.id, keyText });
    printPublicKey(ctx, key, 'Key imported');
  },
};

export const keysShow: Command = {
  name: 'keys show',
  summary: "Print the tenant's public key (never the private key).",
  usage: 'npx qiye-bridge keys show --tenant <id> [--stage <stage>]',
  options: { tenant: { type: 'string' } },
  async run({ values }, ctx) {
    const tenant = ctx.tenant(values.tenant as string | undefined);
    const key = await showTenantKey({ secrets: await secretStoreFor(ctx), stage: ctx.stage, tenantId: tenant.id });
    printPublicKey(ctx, key, 'Current key');
  },
};

export const keysInspect: Command = {
  name: 'keys inspect',
  summary: 'Print the public key of a private key file without storing anything (key rotation: register it first).',
  usage: 'npx qiye-bridge keys inspect --tenant <id> --file <path>',
  options: { tenant: { type: 'string' }, file: { type: 'string' } },
  async run({ values }, ctx) {
    const tenant = ctx.tenant(values.tenant as string | undefined);
    if (typeof values.file !== 'string') throw new ValidationError('--file <path> is required (the private key file).');
    printPublicKey(ctx, inspectKey(tenant.id, await readFile(values.file, 'utf8')), 'Not stored; to use it, run keys import with the same file');
  },
};
