/**
 * The `Host` header, parsed strictly (RFC 9110 §7.2 / RFC 3986 §3.2.2: a DNS name, an IPv4
 * literal or a bracketed IPv6 literal, then an optional port).
 *
 * The bridge never builds a URL from the Host (links come from the configured public base
 * URLs, shared/config/public-url.ts); the Host is only checked, so a malformed one is a
 * clear 400 instead of a crash further down, and the local operator guard can tell a
 * loopback IP literal from a name that merely starts with `127.`.
 */
import { isIP } from 'node:net';
import { ValidationError } from '../errors/app-error';

export interface ParsedHost {
  /** Lower-cased; an IPv6 literal without its brackets. */
  hostname: string;
  port?: number;
  /** 4 or 6 for an IP literal, 0 for a DNS name. */
  ip: 0 | 4 | 6;
}

// Labels of letters, digits, '-' and '_' (some internal names use '_'), 1-63 each, an
// optional trailing dot; the whole name at most 253 characters.
const DNS_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** The Host header's name and port, or undefined when it is not a valid Host. */
export function parseHost(value: string): ParsedHost | undefined {
  const v = value.trim().toLowerCase();
  let hostname: string;
  let portText: string | undefined;
  if (v.startsWith('[')) {
    const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(v);
    if (!m || isIP(m[1]!) !== 6) return undefined;
    hostname = m[1]!;
    portText = m[2];
  } else {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(v);
    if (!m) return undefined;
    hostname = m[1]!;
    portText = m[2];
  }
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const ip = isIP(hostname) as 0 | 4 | 6;
  // Digits-and-dots that are not an IPv4 literal (`127.1`, `1.2.3.999`) are refused: resolvers
  // disagree on what they mean.
  if (ip === 0 && (!DNS_NAME.test(hostname) || /^[\d.]+$/.test(hostname))) return undefined;
  return { hostname, ip, ...(port === undefined ? {} : { port }) };
}

/**
 * True only for a loopback IP literal (127.0.0.0/8, ::1, ::ffff:127.x.y.z) or `localhost`.
 * `127.0.0.1.evil.example` is a DNS name, not an IP literal, so it is not loopback.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  const ip = isIP(h);
  if (ip === 4) return h.startsWith('127.');
  if (ip === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || (/^::ffff:127\.\d+\.\d+\.\d+$/.test(h) && isIP(h.slice(7)) === 4);
  return false;
}

/** Refuses a request whose Host header is present but malformed (400 REQUEST.BAD_HOST). */
export function assertValidHost(headers: Record<string, string | undefined> | undefined): void {
  const host = headers?.host;
  if (host === undefined) return;
  if (!parseHost(host)) throw new ValidationError('The request\'s Host header is not a valid host name.', { code: 'REQUEST.BAD_HOST' });
}
