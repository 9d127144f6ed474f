/**
 * The DingTalk simulator's seeded organisation: deterministic per tenant id, 8 departments
 * under the root (1), 36 people with Chinese names and org emails on the tenant's NetEase
 * domain. Users are stored in DingTalk's own field names (reference dingtalk.md §4), so the
 * simulator serves them as DingTalk would. userids are DingTalk-style digit strings, not
 * email local parts, so nothing downstream can confuse the two.
 */
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import type { Person } from '../../../shared/domain/directory';
import { hasLinkedDingtalk, seedEkpOrg, type EkpSeedTenant } from '../ekp/ekp-sim.seed';
import { hashSeed, pickUniqueName, seededDepartments, seededDraws, type NamePart } from '../sim-random';

export interface SimDtDepartment {
  dept_id: number;
  name: string;
  /** Absent for the root. */
  parent_id?: number;
  order: number;
}

export interface SimDtUser {
  userid: string;
  unionid: string;
  name: string;
  mobile?: string;
  state_code: string;
  job_number?: string;
  title?: string;
  email?: string;
  org_email?: string;
  dept_id_list: number[];
  active: boolean;
  admin: boolean;
  boss: boolean;
  leader: boolean;
  hired_date?: number;
}

export interface SeededOrg {
  departments: SimDtDepartment[];
  users: SimDtUser[];
}

const SURNAMES: readonly NamePart[] = [
  ['王', 'wang'], ['李', 'li'], ['张', 'zhang'], ['刘', 'liu'], ['陈', 'chen'], ['杨', 'yang'], ['黄', 'huang'], ['赵', 'zhao'],
  ['吴', 'wu'], ['周', 'zhou'], ['徐', 'xu'], ['孙', 'sun'], ['马', 'ma'], ['朱', 'zhu'], ['胡', 'hu'], ['郭', 'guo'],
  ['何', 'he'], ['林', 'lin'], ['罗', 'luo'], ['高', 'gao'], ['欧阳', 'ouyang'],
];
const GIVEN: readonly NamePart[] = [
  ['伟', 'wei'], ['芳', 'fang'], ['娜', 'na'], ['敏', 'min'], ['静', 'jing'], ['丽', 'li'], ['强', 'qiang'], ['磊', 'lei'],
  ['军', 'jun'], ['洋', 'yang'], ['勇', 'yong'], ['艳', 'yan'], ['杰', 'jie'], ['涛', 'tao'], ['明', 'ming'], ['超', 'chao'],
  ['秀英', 'xiuying'], ['晓明', 'xiaoming'], ['建华', 'jianhua'], ['志强', 'zhiqiang'], ['海燕', 'haiyan'], ['子涵', 'zihan'],
  ['雨萱', 'yuxuan'], ['浩然', 'haoran'], ['思远', 'siyuan'], ['嘉怡', 'jiayi'], ['宇航', 'yuhang'], ['欣怡', 'xinyi'],
];

/** Departments under the root: [name, parent index (-1 = root)]. */
const DEPARTMENTS: ReadonlyArray<[string, number]> = [
  ['总经办', -1],
  ['研发中心', -1],
  ['平台研发部', 1],
  ['移动研发部', 1],
  ['产品部', -1],
  ['市场部', -1],
  ['销售部', -1],
  ['财务部', -1],
];
const TITLES = ['工程师', '高级工程师', '产品经理', '设计师', '销售经理', '会计', '市场专员', '助理', '总监'];

type SeedTenant = Pick<TenantConfig, 'id' | 'displayName'> & EkpSeedTenant;

/**
 * Build the seeded org of `tenant` (same tenant id → same org). A tenant whose directory is
 * EKP gets an org derived from the EKP simulator's people (seedOverlappingOrg).
 */
export function seedDingtalkOrg(tenant: SeedTenant, people = 36, extraDepartments = 0): SeededOrg {
  const draws = seededDraws(hashSeed(`dingtalk:${tenant.id}`));
  const departments = seedDepartments(tenant, draws.rnd, extraDepartments);
  if (hasLinkedDingtalk(tenant)) return { departments, users: seedOverlappingUsers(tenant, departments, draws, people) };
  return { departments, users: seedOwnUsers(tenant, departments, draws, people) };
}

function seedDepartments(tenant: SeedTenant, rnd: () => number, extraDepartments: number): SimDtDepartment[] {
  const rootName = tenant.displayName?.replace(/\s*\(.*\)\s*$/, '') || `${tenant.id} 有限公司`;
  const departments: SimDtDepartment[] = [{ dept_id: 1, name: rootName, order: 0 }];
  // DingTalk department ids are large integers (e.g. 432825033).
  const base = 400_000_000 + Math.floor(rnd() * 50_000_000);
  DEPARTMENTS.forEach(([name, parentIdx], i) => {
    const parent = parentIdx < 0 ? 1 : (departments[parentIdx + 1] as SimDtDepartment).dept_id;
    departments.push({ dept_id: base + i * 1013, name, parent_id: parent, order: i + 1 });
  });
  // Larger trees (benchmarks): project teams, ten under each department before them.
  for (let i = 0; i < extraDepartments; i++) {
    const parent = (departments[1 + Math.floor(i / 10)] as SimDtDepartment).dept_id;
    departments.push({ dept_id: base + (DEPARTMENTS.length + i) * 1013, name: `项目组${i + 1}`, parent_id: parent, order: DEPARTMENTS.length + i + 1 });
  }
  return departments;
}

/** Share of the derived org (module doc of seedOverlappingUsers). */
export const OVERLAP = { byJobNumber: 24, byMobile: 6, unmatched: 3, ambiguous: 1 } as const;

/**
 * A DingTalk org whose people overlap the tenant's EKP org (the identity links' sandbox):
 * `OVERLAP.byJobNumber` users carry an EKP person's job number (their DingTalk mobile is
 * their own), `OVERLAP.byMobile` carry DingTalk's own job number but an EKP person's mobile,
 * `OVERLAP.unmatched` are not in EKP (contractors: own job number and mobile, no org e-mail),
 * and one has the mobile two EKP people share (ekp-sim.seed.ts), so it is ambiguous. Linked
 * users carry their EKP address as org_email. `people` caps the total.
 */
function seedOverlappingUsers(tenant: SeedTenant, departments: SimDtDepartment[], draws: ReturnType<typeof seededDraws>, people: number): SimDtUser[] {
  const { rnd, pick, digits } = draws;
  const ekp = seedEkpOrg(tenant).people;
  const mobileCount = new Map<string, number>();
  for (const p of ekp) if (p.mobile) mobileCount.set(p.mobile, (mobileCount.get(p.mobile) ?? 0) + 1);
  const shared = ekp.find((p) => p.mobile && mobileCount.get(p.mobile)! > 1);
  const candidates = ekp.filter((p) => p.status === 'active' && p.jobNumber && p.mobile && mobileCount.get(p.mobile) === 1);
  const ekpMobiles = new Set(mobileCount.keys());
  const ownMobile = () => {
    for (;;) {
      const m = `13${digits(9)}`;
      if (!ekpMobiles.has(m)) return m;
    }
  };
  const leafIds = departments.slice(1).map((d) => d.dept_id);
  const names = new Set(ekp.map((p) => p.displayName));
  const users: SimDtUser[] = [];
  const add = (i: number, u: { name: string; mobile: string; job_number: string; org_email?: string }) =>
    users.push({
      userid: `0${digits(15)}`,
      unionid: `${digits(6)}iE${Math.floor(rnd() * 1e12).toString(36)}`,
      ...u,
      state_code: '86',
      title: pick(TITLES),
      dept_id_list: [leafIds[i % leafIds.length] as number],
      active: true,
      admin: i === 0,
      boss: i === 0,
      leader: i < leafIds.length,
      hired_date: Date.UTC(2018, 0, 1) + Math.floor(rnd() * 6 * 365) * 86_400_000,
    });
  const linked = (p: Person) => ({ name: p.displayName, ...(p.email ? { org_email: p.email } : {}) });
  let i = 0;
  for (const p of candidates.slice(0, OVERLAP.byJobNumber)) add(i++, { ...linked(p), mobile: ownMobile(), job_number: p.jobNumber! });
  for (const p of candidates.slice(OVERLAP.byJobNumber, OVERLAP.byJobNumber + OVERLAP.byMobile)) add(i++, { ...linked(p), mobile: p.mobile!, job_number: `DT${1001 + i}` });
  for (let n = 0; n < OVERLAP.unmatched; n++) {
    const { sur, given } = pickUniqueName(pick, SURNAMES, GIVEN, names);
    add(i++, { name: sur[0] + given[0], mobile: ownMobile(), job_number: `DT${1001 + i}` });
  }
  if (shared) add(i++, { name: shared.displayName, mobile: shared.mobile!, job_number: `DT${1001 + i}` });
  return users.slice(0, people);
}

/** The org of a tenant whose directory is DingTalk itself. */
function seedOwnUsers(tenant: SeedTenant, departments: SimDtDepartment[], draws: ReturnType<typeof seededDraws>, people: number): SimDtUser[] {
  const { rnd, pick, digits } = draws;
  const leafIds = departments.slice(1).map((d) => d.dept_id);

  const users: SimDtUser[] = [];
  const names = new Set<string>();
  const locals = new Set<string>();
  for (let i = 0; i < people; i++) {
    const { sur, given } = pickUniqueName(pick, SURNAMES, GIVEN, names);
    let local = `${given[1]}.${sur[1]}`;
    for (let n = 2; locals.has(local); n++) local = `${given[1]}.${sur[1]}${n}`;
    locals.add(local);
    // Everyone has a department; every fourth person also belongs to a second one.
    const deptIds = seededDepartments(leafIds, i, 4, 3);
    users.push({
      userid: `0${digits(15)}`,
      unionid: `${digits(6)}iE${Math.floor(rnd() * 1e12).toString(36)}`,
      name: sur[0] + given[0],
      mobile: `13${digits(9)}`,
      state_code: '86',
      job_number: `DT${String(1001 + i)}`,
      title: pick(TITLES),
      // Every tenth person also entered a personal address: org_email must win in mapping.
      email: i % 10 === 5 ? `${given[1]}${sur[1]}${digits(3)}@example.net` : undefined,
      org_email: `${local}@${tenant.netease.domain}`,
      dept_id_list: deptIds,
      // Two people have not activated DingTalk yet; they are still members.
      active: i % 17 !== 16,
      admin: i === 0,
      boss: i === 0,
      leader: i < leafIds.length,
      hired_date: Date.UTC(2018, 0, 1) + Math.floor(rnd() * 6 * 365) * 86_400_000,
    });
  }
  return users;
}
