import { describe, expect, it } from 'vitest';
import { generateOrg } from '../fixtures/org-generator';

describe('org generator', () => {
  it('is deterministic for a seed and different across seeds', () => {
    const a = generateOrg({ seed: 42, departments: 30, people: 300 });
    const b = generateOrg({ seed: 42, departments: 30, people: 300 });
    const c = generateOrg({ seed: 43, departments: 30, people: 300 });
    expect(b).toEqual(a);
    expect(c.people.map((p) => p.displayName)).not.toEqual(a.people.map((p) => p.displayName));
  });

  it('builds one tree of the requested size whose parents all exist', () => {
    const g = generateOrg({ seed: 1, departments: 50, people: 10 });
    expect(g.departments).toHaveLength(50);
    const ids = new Set(g.departments.map((d) => d.id));
    const roots = g.departments.filter((d) => d.parentId === undefined);
    expect(roots).toHaveLength(1);
    for (const d of g.departments) if (d.parentId) expect(ids.has(d.parentId)).toBe(true);
    // Sibling names are unique, as EKP would have them.
    const siblingKeys = g.departments.map((d) => `${d.parentId}/${d.name}`);
    expect(new Set(siblingKeys).size).toBe(siblingKeys.length);
  });

  it('has two same-name departments in different branches, a two-department person, leavers and disabled people', () => {
    const g = generateOrg({ seed: 20240611, departments: 24, people: 240, domain: 'sandbox.example.com' });
    const [a, b] = g.sameNameDepartmentIds ?? [];
    const da = g.departments.find((d) => d.id === a);
    const db = g.departments.find((d) => d.id === b);
    expect(da?.name).toBe(db?.name);
    expect(da?.parentId).not.toBe(db?.parentId);

    expect(g.multiDepartmentPersonIds.length).toBeGreaterThan(0);
    for (const id of g.multiDepartmentPersonIds) {
      const p = g.people.find((x) => x.id === id);
      expect(p?.departmentIds).toHaveLength(2);
      expect(p?.mainDepartmentId).toBe(p?.departmentIds[0]);
    }
    expect(g.leaverIds.length).toBeGreaterThan(0);
    expect(g.people.filter((p) => p.status === 'left').map((p) => p.id)).toEqual(g.leaverIds);
    expect(g.disabledIds.length).toBeGreaterThan(0);
    expect(g.people.every((p) => !p.email || p.email.endsWith('@sandbox.example.com'))).toBe(true);
  });

  it('makes EKP rows that agree with the neutral model, with posts for second departments and password hashes', () => {
    const g = generateOrg({ seed: 5, departments: 20, people: 200 });
    const persons = g.ekp.elements.filter((e) => e.type === 'person');
    const posts = new Map(g.ekp.elements.filter((e) => e.type === 'post').map((p) => [p.id, p]));
    expect(persons).toHaveLength(200);
    for (const p of g.people) {
      const el = persons.find((e) => e.id === p.id);
      expect(el?.parent).toBe(p.mainDepartmentId);
      expect(el?.isAvailable).toBe(p.status !== 'left');
      expect(el?.password).toMatch(/^[0-9a-f]{32}$/);
      const viaPosts = (el?.posts ?? []).map((id) => posts.get(id)?.parent);
      expect([el?.parent, ...viaPosts]).toEqual(p.departmentIds);
    }
    // alterTimes ascend and several rows share a millisecond somewhere.
    const times = g.ekp.elements.map((e) => e.alterTime);
    expect([...times].sort()).toEqual(times);
    expect(new Set(times).size).toBeLessThan(times.length);
  });

  it('scales to 100,000 people with unique ids, login names, emails, mobiles and job numbers', () => {
    const started = performance.now();
    const g = generateOrg({ seed: 9, departments: 1000, people: 100_000 });
    const ms = performance.now() - started;
    expect(g.people).toHaveLength(100_000);
    expect(g.departments).toHaveLength(1000);
    const unique = (xs: Array<string | undefined>) => new Set(xs.filter((x) => x !== undefined)).size;
    expect(unique(g.people.map((p) => p.id))).toBe(100_000);
    expect(unique(g.people.map((p) => p.loginName))).toBe(100_000);
    expect(unique(g.people.map((p) => p.mobile))).toBe(100_000);
    expect(unique(g.people.map((p) => p.jobNumber))).toBe(100_000);
    const emails = g.people.map((p) => p.email).filter((e) => e !== undefined);
    expect(unique(emails)).toBe(emails.length);
    expect(unique(g.ekp.elements.map((e) => e.id))).toBe(g.ekp.elements.length);
    // A loose guard only (the real target, well under a few seconds, is for benchmarks).
    expect(ms).toBeLessThan(20_000);
  });
});
