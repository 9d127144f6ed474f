import { describe, expect, it } from 'vitest';
import { classifyNeteaseErrorCode, NeteaseApiError, registerNeteaseErrorCode } from '../../shared/adapters/netease/netease.errors';
import { isNeteaseError } from '../../shared/errors/netease-failure';
import { accountConSchema, envelopeSchema, toAccount } from '../../shared/adapters/netease/netease.schemas';
import { formatChinaTime } from '../../shared/adapters/netease/netease.client';
import { UpstreamError } from '../../shared/errors/app-error';

describe('classifyNeteaseErrorCode', () => {
  it.each([
    ['UNIT.EXIST', 'duplicate', false],
    ['MAILACCOUNT.NAMEEXIST', 'duplicate', false],
    ['ACCOUNT.NOTEXIST', 'notFound', false],
    ['UNIT.NOT_EMPTY', 'notEmpty', false],
    ['SIGN.INVALID', 'auth', false],
    ['TIME.EXPIRED', 'auth', false],
    ['REQUEST.RATE_LIMITED', 'throttled', true],
    ['SYSTEM.ERROR', 'server', true],
    ['-423', 'throttled', true],
    ['unit.exist', 'duplicate', false],
  ] as const)('classifies the known code %s as %s (retryable %s)', (code, kind, retryable) => {
    expect(classifyNeteaseErrorCode(code)).toEqual({ kind, retryable });
  });

  it.each([
    ['API.FREQUENCY_LIMIT', 'throttled', true],
    ['SERVER_BUSY', 'throttled', true],
    ['INTERNAL_ERROR', 'server', true],
    ['DEPT.NOT_EXIST', 'notFound', false],
    ['USER_ALREADY_EXISTS', 'duplicate', false],
    ['WHATEVER_42', 'rejected', false],
  ] as const)('guesses an unknown code %s by its name: %s', (code, kind, retryable) => {
    expect(classifyNeteaseErrorCode(code)).toEqual({ kind, retryable });
  });

  it('can be extended when production reveals a real code', () => {
    expect(classifyNeteaseErrorCode('E1234').kind).toBe('rejected');
    registerNeteaseErrorCode('E1234', { kind: 'throttled', retryable: true });
    expect(classifyNeteaseErrorCode('e1234')).toEqual({ kind: 'throttled', retryable: true });
  });
});

describe('NeteaseApiError', () => {
  it('is an UpstreamError carrying the vendor code, our code and retryability', () => {
    const err = NeteaseApiError.fromCode('unit/createUnit', 'UNIT.EXIST');
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ vendor: 'netease', code: 'NETEASE.DUPLICATE', errorCode: 'UNIT.EXIST', retryable: false, status: 502, expose: false });
    expect(err.message).toBe('netease unit/createUnit failed: error_code UNIT.EXIST (duplicate)');
    expect(isNeteaseError(err, 'duplicate')).toBe(true);
    expect(isNeteaseError(err, 'notFound')).toBe(false);
  });

  it('keeps a hostile error_code short and printable', () => {
    const err = NeteaseApiError.fromCode('x/y', `BAD\n${'A'.repeat(500)}`);
    expect(err.errorCode).toHaveLength(80);
    expect(err.message).not.toContain('\n');
  });
});

describe('schemas', () => {
  it('accepts suc as boolean or "1" and maps account fields to camelCase', () => {
    expect(envelopeSchema.parse({ suc: '1', con: null }).suc).toBe(true);
    expect(envelopeSchema.parse({ suc: false, error_code: 'X' })).toMatchObject({ suc: false, error_code: 'X' });
    const acc = toAccount(accountConSchema.parse({ account_name: 'a', nickname: 'A', status: '1', type: 0, unit_id: 12, create_time: '1700000000000', unit_list: [{ unit_id: 3 }, '4'] }));
    expect(acc).toEqual({ accountName: 'a', nickname: 'A', status: 'suspended', statusCode: 1, isMailList: true, unitId: '12', createTime: 1700000000000, unitIds: ['3', '4'] });
  });
});

describe('formatChinaTime', () => {
  it('formats a Date in UTC+8 and passes valid strings through', () => {
    expect(formatChinaTime(new Date('2024-01-31T20:30:05Z'))).toBe('2024-02-01 04:30:05');
    expect(formatChinaTime('2024-02-01')).toBe('2024-02-01');
    expect(() => formatChinaTime('01/02/2024')).toThrow(/yyyy-MM-dd/);
  });
});
