/**
 * The WeCom simulator's seeded organisation: deterministic per tenant id, 8 departments
 * under the root (1), 36 people with pinyin userids (WeCom accounts usually are), emails
 * on the tenant's NetEase domain, a WeCom biz_mail each, a 工号 extattr, one disabled
 * member and one not yet activated. Stored in WeCom's own field names (reference
 * wecom.md §4, user/get 96255).
 */
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { hashSeed, pickUniqueName, seededDepartments, seededDraws, type NamePart } from '../sim-random';

export interface SimWcDepartment {
  id: number;
  name: string;
  name_en?: string;
  /** 0 for the root. */
  parentid: number;
  /** Larger first (WeCom's convention). */
  order: number;
}

export interface SimWcUser {
  /** Stored lowercase: WeCom userids are case-insensitive and returned lowercased. */
  userid: string;
  name: string;
  department: number[];
  order: number[];
  position?: string;
  mobile?: string;
  /** "1" male, "2" female, "0" unknown. */
  gender: string;
  email?: string;
  biz_mail?: string;
  is_leader_in_dept: number[];
  direct_leader: string[];
  telephone?: string;
  alias?: string;
  main_department: number;
  /** 1 active, 2 disabled, 4 not activated, 5 left. */
  status: number;
  extattr: { attrs: Array<{ type: number; name: string; text?: { value: string } }> };
  open_userid: string;
}

const SURNAMES: readonly NamePart[] = [
  ['张', 'zhang'], ['王', 'wang'], ['李', 'li'], ['赵', 'zhao'], ['钱', 'qian'], ['孙', 'sun'], ['周', 'zhou'], ['吴', 'wu'],
  ['郑', 'zheng'], ['冯', 'feng'], ['陈', 'chen'], ['褚', 'chu'], ['卫', 'wei'], ['蒋', 'jiang'], ['沈', 'shen'], ['韩', 'han'],
  ['杨', 'yang'], ['朱', 'zhu'], ['秦', 'qin'], ['许', 'xu'], ['司马', 'sima'],
];
const GIVEN: readonly NamePart[] = [
  ['一鸣', 'yiming'], ['佳琪', 'jiaqi'], ['子轩', 'zixuan'], ['梓涵', 'zihan'], ['俊杰', 'junjie'], ['诗涵', 'shihan'], ['浩宇', 'haoyu'],
  ['欣妍', 'xinyan'], ['宇轩', 'yuxuan'], ['可馨', 'kexin'], ['文博', 'wenbo'], ['雨桐', 'yutong'], ['天佑', 'tianyou'], ['梦瑶', 'mengyao'],
  ['明轩', 'mingxuan'], ['若曦', 'ruoxi'], ['志远', 'zhiyuan'], ['静怡', 'jingyi'], ['伟', 'wei'], ['磊', 'lei'], ['芳', 'fang'],
  ['敏', 'min'], ['洁', 'jie'], ['斌', 'bin'], ['颖', 'ying'],
];
const DEPARTMENTS: ReadonlyArray<[string, string, number]> = [
  // name, English name, parent index (-1 = root)
  ['管理层', 'Management', -1],
  ['技术部', 'Engineering', -1],
  ['前端组', 'Frontend', 1],
  ['后端组', 'Backend', 1],
  ['产品部', 'Product', -1],
  ['运营部', 'Operations', -1],
  ['销售部', 'Sales', -1],
  ['人事行政部', 'HR & Admin', -1],
];
const POSITIONS = ['工程师', '高级工程师', '产品经理', '运营专员', '销售代表', '人事专员', '行政助理', '经理'];

export interface SeededWecomOrg {
  departments: SimWcDepartment[];
  users: SimWcUser[];
}

/** Build the seeded org of `tenant` (same tenant id → same org). */
export function seedWecomOrg(tenant: Pick<TenantConfig, 'id' | 'displayName'> & { netease: { domain: string }; wecom?: { corpId: string } }, people = 36, extraDepartments = 0): SeededWecomOrg {
  const { rnd, pick, digits } = seededDraws(hashSeed(`wecom:${tenant.id}`));
  const corp = (tenant.wecom?.corpId ?? tenant.id).toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12);

  const rootName = tenant.displayName?.replace(/\s*\(.*\)\s*$/, '') || `${tenant.id} 有限公司`;
  const departments: SimWcDepartment[] = [{ id: 1, name: rootName, parentid: 0, order: 100_000_000 }];
  DEPARTMENTS.forEach(([name, en, parentIdx], i) => {
    departments.push({ id: i + 2, name, name_en: en, parentid: parentIdx < 0 ? 1 : parentIdx + 2, order: 100_000_000 - (i + 1) * 1000 });
  });
  // Larger trees (benchmarks): project teams, ten under each department before them.
  for (let i = 0; i < extraDepartments; i++) {
    const id = DEPARTMENTS.length + 2 + i;
    departments.push({ id, name: `项目组${i + 1}`, name_en: `Team ${i + 1}`, parentid: (departments[1 + Math.floor(i / 10)] as SimWcDepartment).id, order: 50_000_000 - i });
  }
  const leafIds = departments.slice(1).map((d) => d.id);

  const users: SimWcUser[] = [];
  const names = new Set<string>();
  for (let i = 0; i < people; i++) {
    const { sur, given } = pickUniqueName(pick, SURNAMES, GIVEN, names);
    let userid = `${sur[1]}${given[1]}`;
    for (let n = 2; users.some((u) => u.userid === userid); n++) userid = `${sur[1]}${given[1]}${n}`;
    const department = seededDepartments(leafIds, i, 5, 2);
    users.push({
      userid,
      name: sur[0] + given[0],
      department,
      order: department.map(() => 0),
      position: pick(POSITIONS),
      mobile: `139${digits(8)}`,
      gender: rnd() < 0.5 ? '1' : '2',
      email: `${userid}@${tenant.netease.domain}`,
      biz_mail: `${userid}@${corp}.wecom.work`,
      is_leader_in_dept: department.map(() => (i < leafIds.length ? 1 : 0)),
      direct_leader: [],
      telephone: '',
      alias: '',
      main_department: department[0] as number,
      // One member is disabled, one has not activated WeCom yet.
      status: i === 20 ? 2 : i === 30 ? 4 : 1,
      extattr: { attrs: [{ type: 0, name: '工号', text: { value: `WC${String(2001 + i)}` } }] },
      open_userid: `wo${digits(6)}${Math.floor(rnd() * 1e12).toString(36)}`,
    });
  }
  return { departments, users };
}
