/**
 * The vendor simulators the local stack can start.
 *
 * The stack starts a simulator only when some tenant points that vendor's URLs at a
 * loopback address, on the port given in the URL (config/tenants.local.json: NetEase 3101,
 * DingTalk 3102, WeCom 3103, EKP 3104).
 */
import type { SimulatorModule } from './simulator';
import { neteaseSimulator } from './netease/netease.simulator';
import { dingtalkSimulator } from './dingtalk';
import { wecomSimulator } from './wecom';
import { ekpSimulator } from './ekp/ekp.simulator';

export const SIMULATORS: readonly SimulatorModule[] = [neteaseSimulator, dingtalkSimulator, wecomSimulator, ekpSimulator];
