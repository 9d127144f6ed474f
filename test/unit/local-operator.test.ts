import { describe, expect, it } from 'vitest';
import { isLocalOperator } from '../../local/http-gateway';

const req = (sourceIp: string, headers: Record<string, string> = {}) => ({ sourceIp, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) });

describe('local admin API callers', () => {
  it('accepts the CLI and curl on this machine', () => {
    expect(isLocalOperator(req('127.0.0.1', { host: '127.0.0.1:3000' }))).toBe(true);
    expect(isLocalOperator(req('::1', { host: 'localhost:3000' }))).toBe(true);
    expect(isLocalOperator(req('::ffff:127.0.0.1', { host: '[::1]:3000', 'sec-fetch-site': 'none' }))).toBe(true);
  });

  it('refuses other machines, web pages (CSRF) and foreign Host names (DNS rebinding)', () => {
    expect(isLocalOperator(req('10.0.0.5', { host: '127.0.0.1:3000' }))).toBe(false);
    expect(isLocalOperator(req('127.0.0.1', { host: '127.0.0.1:3000', origin: 'https://evil.example.com' }))).toBe(false);
    expect(isLocalOperator(req('127.0.0.1', { host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site' }))).toBe(false);
    expect(isLocalOperator(req('127.0.0.1', { host: 'rebind.evil.example.com:3000' }))).toBe(false);
  });
});
