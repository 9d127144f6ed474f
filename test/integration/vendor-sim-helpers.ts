/** Helpers shared by the vendor client tests that run against a simulator over HTTP. */
import { expect } from 'vitest';

export type SimControl = <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; json: T }>;

/** Calls a simulator's control API (`/__sim/…`) at the URL `baseUrl()` gives when called (the simulator starts in beforeAll). */
export function simControl(baseUrl: () => string): SimControl {
  return async <T = unknown>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  };
}

/** The error `p` rejects with, asserted to be a `type`; fails the test when `p` resolves. */
export async function rejectionOf<E>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}
