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

  it('parses the Host as an IP literal: a DNS name that starts with 127. is not loopback', () => {
    for (const host of ['127.0.0.1.evil.example', '127.0.0.1.evil.example:3000', '127.evil.example', '127.0.0.1:3000:80', '127.1', '[::1].evil', '::1', 'localhost.evil.example']) {
      expect(isLocalOperator(req('127.0.0.1', { host })), host).toBe(false);
    }
    for (const host of ['127.0.0.1', '127.0.0.1:3000', '127.3.4.5:1', 'LOCALHOST:3000', '[::1]', '[::ffff:127.0.0.1]:3000']) {
      expect(isLocalOperator(req('127.0.0.1', { host })), host).toBe(true);
    }
  });
});
