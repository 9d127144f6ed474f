import { describe, expect, it } from 'vitest';
import { formatEkpTime, normalizeEkpTime, oneMsBefore, parseEkpTime } from '../../shared/adapters/ekp/ekp-time';
import { EkpMessageFormatError, ekpElementSchema, ekpEnvelopeSchema, parseEkpMessageRows } from '../../shared/adapters/ekp/ekp.schema';
import { mapDepartment, mapPerson, postDepartments } from '../../shared/adapters/ekp/ekp.mapper';
import { decodeWatermark, encodeWatermark } from '../../shared/adapters/ekp/ekp.feed';
import { ValidationError } from '../../shared/errors/app-error';

describe('EKP alterTime helpers', () => {
  it('steps back one millisecond across second, day and year boundaries', () => {
    expect(oneMsBefore('2024-03-01 08:00:00.233')).toBe('2024-03-01 08:00:00.232');
    expect(oneMsBefore('2024-03-01 08:00:00.000')).toBe('2024-03-01 07:59:59.999');
    expect(oneMsBefore('2024-01-01 00:00:00.000')).toBe('2023-12-31 23:59:59.999');
    expect(oneMsBefore('2024-03-01 00:00:00.000')).toBe('2024-02-29 23:59:59.999');
  });

  it('normalises times without or with short milliseconds the way EKP reads them', () => {
    expect(normalizeEkpTime('2024-05-06 07:08:09')).toBe('2024-05-06 07:08:09.000');
    // The v16.0.5 reader right-pads: ".5" is 500 ms, ".05" is 50 ms.
    expect(normalizeEkpTime('2024-05-06 07:08:09.5')).toBe('2024-05-06 07:08:09.500');
    expect(normalizeEkpTime('2024-05-06 07:08:09.05')).toBe('2024-05-06 07:08:09.050');
    expect(normalizeEkpTime('yesterday')).toBeUndefined();
    expect(normalizeEkpTime('2024-13-45 99:00:00.000')).toBeUndefined();
    expect(parseEkpTime('2024-02-30 00:00:00.000')).toBeUndefined();
    expect(formatEkpTime(parseEkpTime('2024-02-29 23:59:59.999') as number)).toBe('2024-02-29 23:59:59.999');
  });

  it('rejects a malformed time when stepping back', () => {
    expect(() => oneMsBefore('not a time')).toThrow(RangeError);
  });
});

describe('EKP message double parse', () => {
  const rows = [
    { id: 'p1', name: '张伟', type: 'person', alterTime: '2024-03-01 08:00:00.001', password: 'c4ca4238a0b923820dcc509a6f75849b', loginName: 'zhangwei', extra: { initPassword: 'x1', fdPwd: 'x2', keep: 1 } },
  ];
  const body = JSON.stringify({ returnState: 2, message: JSON.stringify(rows), count: 1, timeStamp: '2024-03-01 08:00:00.001' });

  it('parses the rows out of the JSON string inside the JSON body', () => {
    const env = ekpEnvelopeSchema.parse(JSON.parse(body));
    expect(typeof env.message).toBe('string');
    const parsed = parseEkpMessageRows(env.message) as Array<Record<string, unknown>>;
    expect(parsed).toHaveLength(1);
    expect(parsed[0]?.name).toBe('张伟');
    expect(parsed[0]?.loginName).toBe('zhangwei');
  });

  it('drops password-like keys while parsing, at any depth', () => {
    const parsed = parseEkpMessageRows(ekpEnvelopeSchema.parse(JSON.parse(body)).message);
    const text = JSON.stringify(parsed);
    expect(text).not.toContain('c4ca4238a0b923820dcc509a6f75849b');
    expect(text).not.toMatch(/password|Pwd|x1|x2/);
    expect(text).toContain('"keep":1');
  });

  it('also scrubs a message that a gateway already turned into an array', () => {
    const parsed = parseEkpMessageRows(rows as unknown as unknown[]);
    expect(JSON.stringify(parsed)).not.toContain('c4ca4238');
  });

  it('treats an empty message as no rows and refuses a message that is not a JSON array', () => {
    expect(parseEkpMessageRows('')).toEqual([]);
    expect(parseEkpMessageRows(null)).toEqual([]);
    expect(() => parseEkpMessageRows('[{"id":')).toThrow(EkpMessageFormatError);
    expect(() => parseEkpMessageRows('{"id":"x"}')).toThrow(/not an array/);
  });

  it('never echoes the message text in its error', () => {
    const secretish = '[{"id":"p1","password":"c4ca4238a0b923820dcc509a6f75849b"';
    try {
      parseEkpMessageRows(secretish);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('c4ca4238');
    }
  });
});

describe('EKP element mapping', () => {
  const el = (o: Record<string, unknown>) => ekpElementSchema.parse({ name: 'x', alterTime: '2024-03-01 08:00:00.000', ...o });

  it('maps org and dept rows to departments with order and status', () => {
    expect(mapDepartment(el({ id: 'root', type: 'org', order: '3', isAvailable: true }))).toEqual({ id: 'root', name: 'x', order: 3, displayOrder: 3, status: 'active' });
    expect(mapDepartment(el({ id: 'd1', type: 'dept', parent: 'root', isAvailable: false }))).toEqual({ id: 'd1', name: 'x', parentId: 'root', order: 0, status: 'disabled' });
  });

  it('maps fdOrder to the display order of departments and people, and a department leader to its manager', () => {
    expect(mapDepartment(el({ id: 'd1', type: 'dept', parent: 'root', order: '7', thisLeader: 'p9', isAvailable: true }))).toMatchObject({ displayOrder: 7, managerIds: ['p9'] });
    expect(mapPerson(el({ id: 'p1', type: 'person', parent: 'd1', order: '12', isAvailable: true }), new Map()).order).toBe(12);
    expect(mapPerson(el({ id: 'p2', type: 'person', parent: 'd1', isAvailable: true }), new Map()).order).toBeUndefined();
  });

  it('gives a person the main department first, then the departments of their available posts', () => {
    const posts = postDepartments([
      el({ id: 'post1', type: 'post', parent: 'd2', isAvailable: true }),
      el({ id: 'post2', type: 'post', parent: 'd3', isAvailable: false }),
      el({ id: 'post3', type: 'post', parent: 'd1', isAvailable: true }),
    ]);
    const p = mapPerson(el({ id: 'p1', type: 'person', parent: 'd1', posts: ['post1', 'post2', 'post3', 'unknown'], loginName: 'zhangwei', email: 'zhangwei@acme.com', mobileNo: '13800000000', no: 'E000001', isAvailable: true, canLogin: true }), posts);
    expect(p).toEqual({
      id: 'p1',
      displayName: 'x',
      loginName: 'zhangwei',
      email: 'zhangwei@acme.com',
      mobile: '13800000000',
      jobNumber: 'E000001',
      departmentIds: ['d1', 'd2'],
      mainDepartmentId: 'd1',
      status: 'active',
    });
  });

  it('derives left from isAvailable=false and disabled from canLogin=false or isBusiness=false', () => {
    const none = new Map<string, string>();
    expect(mapPerson(el({ id: 'a', type: 'person', isAvailable: false, canLogin: true }), none).status).toBe('left');
    expect(mapPerson(el({ id: 'b', type: 'person', isAvailable: true, canLogin: false }), none).status).toBe('disabled');
    expect(mapPerson(el({ id: 'c', type: 'person', isAvailable: 'true', isBusiness: 'false' }), none).status).toBe('disabled');
    expect(mapPerson(el({ id: 'd', type: 'person', isAvailable: true }), none).status).toBe('active');
  });

  it('refuses a row without a usable alterTime', () => {
    expect(ekpElementSchema.safeParse({ id: 'x', type: 'person', alterTime: 'soon' }).success).toBe(false);
  });
});

describe('EKP watermarks', () => {
  it('round-trips per-type cursors through an opaque string', () => {
    const w = encodeWatermark({ org: { t: '2024-03-01 08:00:00.001', ids: ['a'] }, dept: { t: '2024-03-02 08:00:00.000', ids: ['b', 'c'] } });
    expect(decodeWatermark(w, ['org', 'dept'], 'department')).toEqual({ org: { t: '2024-03-01 08:00:00.001', ids: ['a'] }, dept: { t: '2024-03-02 08:00:00.000', ids: ['b', 'c'] } });
  });

  it('accepts a bare EKP timestamp for every type (manual rewind) and empty for from-the-beginning', () => {
    expect(decodeWatermark('2024-03-01 08:00:00', ['org', 'dept'], 'department')).toEqual({ org: { t: '2024-03-01 08:00:00.000', ids: [] }, dept: { t: '2024-03-01 08:00:00.000', ids: [] } });
    expect(decodeWatermark(undefined, ['person'], 'person')).toEqual({});
  });

  it('rejects a damaged watermark with a clear, non-retryable error', () => {
    for (const bad of ['{"v":2}', 'garbage', '{"v":1,"person":{"t":"soon","ids":[]}}', '{"v":1,"person":{"t":"2024-03-01 08:00:00.000","ids":[1]}}']) {
      try {
        decodeWatermark(bad, ['person'], 'person');
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).code).toBe('EKP.BAD_WATERMARK');
        expect((err as ValidationError).retryable).toBe(false);
      }
    }
  });
});
