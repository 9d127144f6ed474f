import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { AuthError, NotConfiguredError, UpstreamError, ValidationError } from '../../shared/errors/app-error';
import { httpHandler } from '../../shared/http/http-handler';
import { createMemoryLogger } from '../../shared/logging/logger';

const event = { routeKey: 'GET /x', rawPath: '/x', requestContext: { requestId: 'req-1' } } as unknown as APIGatewayProxyEventV2;
const ctx = { awsRequestId: 'aws-1' } as Context;

function run(err: Error, htmlErrors = false) {
  const logger = createMemoryLogger();
  const h = httpHandler(async () => {
    throw err;
  }, { logger, htmlErrors });
  return h(event, ctx).then((res) => ({ res, logger }));
}

describe('HTTP error mapping', () => {
  it('shows a safe 4xx error with its code', async () => {
    const { res } = await run(new ValidationError('bad tenant'));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body!)).toMatchObject({ error: 'REQUEST.INVALID', message: 'bad tenant', requestId: 'req-1' });
  });

  it('answers 501 for a capability not configured yet, never a success, without internals for anonymous callers', async () => {
    const { res, logger } = await run(new NotConfiguredError('Secret "qiye-bridge/prod/acme/oa" is not set'));
    expect(res.statusCode).toBe(501);
    expect(JSON.parse(res.body!).error).toBe('NOT_CONFIGURED');
    expect(res.body).not.toContain('qiye-bridge/prod');
    expect(JSON.stringify(logger.lines)).toContain('qiye-bridge/prod/acme/oa');
  });

  it('shows operators (admin routes) what is not configured', async () => {
    const logger = createMemoryLogger();
    const h = httpHandler(async () => {
      throw new NotConfiguredError('Secret "qiye-bridge/prod/acme/oa" is not set');
    }, { logger, exposeConfigDetails: true });
    const res = await h(event, ctx);
    expect(res.body).toContain('qiye-bridge/prod/acme/oa');
  });

  it('hides upstream and unknown errors behind a generic 500 and logs them', async () => {
    const { res, logger } = await run(new UpstreamError('netease', 'UPSTREAM.X', 'secret-ish detail'));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret-ish');
    expect(logger.lines.some((l) => l.level === 'error' && l.requestId === 'req-1')).toBe(true);
    const plain = await run(new Error('boom'));
    expect(plain.res.statusCode).toBe(500);
    expect(plain.res.body).not.toContain('boom');
  });

  it('renders an HTML page for browser-facing routes', async () => {
    const { res } = await run(new AuthError('SSO.BAD_SIGNATURE', 'The link is invalid <script>'), true);
    expect(res.statusCode).toBe(401);
    expect(res.headers?.['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('The link is invalid &lt;script&gt;');
  });
});
