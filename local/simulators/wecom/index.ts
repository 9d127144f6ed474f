/** The WeCom simulator (see wecom.simulator.ts for its HTTP and control API). */
export { pointWecomAt, startWecomSimulator, wecomSimulator } from './wecom.simulator';
export type { RunningWecomSimulator, WcSimTenantView, WecomFaultsInput, WecomSimFaults, WecomSimulatorOptions } from './wecom.simulator';
export type { SimWcDepartment, SimWcUser } from './wecom-sim.seed';
export type { SimAppMessage } from './wecom-sim.state';
