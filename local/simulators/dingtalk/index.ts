/** The DingTalk simulator (see dingtalk.simulator.ts for its HTTP and control API). */
export { dingtalkSimulator, pointDingtalkAt, startDingtalkSimulator } from './dingtalk.simulator';
export type { DingtalkFaultsInput, DingtalkSimFaults, DingtalkSimulatorOptions, DtSimTenantView, RunningDingtalkSimulator } from './dingtalk.simulator';
export type { SimDtDepartment, SimDtUser } from './dingtalk-sim.seed';
export type { SimWorkMessage } from './dingtalk-sim.state';
