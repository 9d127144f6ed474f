import { readFile } from 'node:fs/promises';
import { generateTenantKey, importTenantKey, inspectKey, showTenantKey, type TenantPublicKey } from '../../shared/use-cases/manage-keys';
import { ValidationError } from '../../shared/errors/app-error';
import { secretStoreFor, type CliContext } from '../context';
import { tenantCommand, type CommandArgs } from './command';

function printPublicKey(ctx: CliContext, k: TenantPublicKey, action: string): void {
  ctx.out(`${action} for tenant ${k.tenantId} (${k.bits}-bit RSA). Register this public key with NetEase:`);
  ctx.out('');
  ctx.out(k.publicKeyHex);
  ctx.out('');
  ctx.out(k.publicKeyPem.trim());
  ctx.out('');
  ctx.out(`fingerprint (SHA-256 of the DER): ${k.fingerprint}`);
}

/** The private key file named by `--file`, read as text. */
async function keyFile(values: CommandArgs['values']): Promise<string> {
  if (typeof values.file !== 'string') throw new ValidationError('--file <path> is required (the private key file).');
  return readFile(values.file, 'utf8');
}

export const keysGenerate = tenantCommand({
  name: 'keys generate',
  summary: "Generate the tenant's NetEase RSA key pair; store the private key, print the public key.",
  args: '[--bits 1024|2048]',
  async run({ values, tenant }, ctx) {
    const bits = values.bits === undefined ? tenant.netease.keyBits : Number(values.bits);
    if (bits !== 1024 && bits !== 2048) throw new ValidationError('--bits must be 1024 or 2048.');
    const key = await generateTenantKey({ secrets: await secretStoreFor(ctx), stage: ctx.stage, tenantId: tenant.id, bits });
    printPublicKey(ctx, key, 'New key stored');
  },
});

export const keysImport = tenantCommand({
  name: 'keys import',
  summary: 'Import an existing private key (hex DER PKCS#8/PKCS#1 or PEM) for the tenant.',
  args: '--file <path>',
  async run({ values, tenant }, ctx) {
    const keyText = await keyFile(values);
    const key = await importTenantKey({ secrets: await secretStoreFor(ctx), stage: ctx.stage, tenantId: tenant.id, keyText });
    printPublicKey(ctx, key, 'Key imported');
  },
});

export const keysShow = tenantCommand({
  name: 'keys show',
  summary: "Print the tenant's public key (never the private key).",
  async run({ tenant }, ctx) {
    printPublicKey(ctx, await showTenantKey({ secrets: await secretStoreFor(ctx), stage: ctx.stage, tenantId: tenant.id }), 'Current key');
  },
});

export const keysInspect = tenantCommand({
  name: 'keys inspect',
  summary: 'Print the public key of a private key file without storing anything (key rotation: register it first).',
  args: '--file <path>',
  stage: false,
  async run({ values, tenant }, ctx) {
    printPublicKey(ctx, inspectKey(tenant.id, await keyFile(values)), 'Not stored; to use it, run keys import with the same file');
  },
});
