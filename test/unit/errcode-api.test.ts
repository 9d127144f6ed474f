import { describe, expect, it } from 'vitest';
import { errcodeClassifier } from '../../shared/adapters/http/errcode-api';
import { DingtalkApiError } from '../../shared/adapters/dingtalk/dingtalk.errors';
import { WecomApiError } from '../../shared/adapters/wecom/wecom.errors';

describe('errcodeClassifier', () => {
  it('answers the kind an errcode is listed under, and the fallback for any other errcode', () => {
    const classify = errcodeClassifier<'throttled' | 'notFound' | 'rejected'>({ throttled: [45009, 45033], notFound: [60111] }, 'rejected');
    expect([45009, 45033, 60111, 0, -1, 99999].map(classify)).toEqual(['throttled', 'throttled', 'notFound', 'rejected', 'rejected', 'rejected']);
  });

  it('refuses a table that lists one errcode under two kinds', () => {
    expect(() => errcodeClassifier<'a' | 'b' | 'c'>({ a: [1, 2], b: [2] }, 'c')).toThrow('errcode 2 is listed under a and b');
  });
});

describe('vendor API errors share their retry rule', () => {
  it.each([
    ['throttled', true],
    ['server', true],
    ['notFound', false],
    ['credentials', false],
  ] as const)('%s is retryable: %s, for DingTalk and WeCom alike', (kind, retryable) => {
    const ding = new DingtalkApiError({ tenantId: 't1', appKey: 'k', api: 'topapi/v2/user/get', kind, errcode: 1 });
    const wecom = new WecomApiError({ tenantId: 't1', corpId: 'c', api: 'user/get', kind, errcode: 1 });
    expect([ding.retryable, wecom.retryable]).toEqual([retryable, retryable]);
    expect(ding.details).toMatchObject({ tenant: 't1', api: 'topapi/v2/user/get', kind, errcode: 1 });
    expect(wecom.details).toMatchObject({ tenant: 't1', api: 'user/get', kind, errcode: 1 });
  });
});
