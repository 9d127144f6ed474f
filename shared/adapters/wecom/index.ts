/** WeCom adapter: API client (two secrets), directory source, errors. */
export { WecomClient, createWecomClient, truncateUtf8, WECOM_LIST_ID_MAX, WECOM_MESSAGE_MAX_USERS } from './wecom.client';
export type { TextCardInput, TextCardResult, WecomClientOptions, WecomConfig, WecomSecrets } from './wecom.client';
export { WecomDirectorySource } from './wecom.directory-source';
export type { WecomDirectorySourceOptions, WecomMemberStrategy } from './wecom.directory-source';
export { WecomApiError, WecomErrcode, classifyWecomErrcode, isWecomError } from './wecom.errors';
export type { WecomErrorKind, WecomSecretKind } from './wecom.errors';
export type { WecomDepartment, WecomDepartmentId, WecomUser } from './wecom.schemas';
