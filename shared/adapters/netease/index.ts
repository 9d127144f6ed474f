/** NetEase enterprise mail adapter: the legacy API client, its errors and its types. */
export * from './netease.client';
export * from './netease.errors';
export type { NeteaseAccountPage } from './netease.schemas';
