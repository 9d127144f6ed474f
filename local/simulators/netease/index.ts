/** The NetEase enterprise mail simulator (see netease.simulator.ts for its HTTP and control API). */
export { neteaseSimulator, startNeteaseSimulator } from './netease.simulator';
export type { NeteaseFaults, NeteaseSimulatorOptions, RunningNeteaseSimulator, SimCall } from './netease.simulator';
export type { DomainState, SimAccount, SimMailLog, SimUnit } from './netease-sim.state';
