/** WeCom adapter: API client (two secrets), directory source, errors. */
export { WecomClient, createWecomClient, truncateUtf8, REFUSAL_MEMORY_MS, WECOM_LIST_ID_MAX, WECOM_MESSAGE_MAX_USERS, WECOM_SECRET_ORDER } from './wecom.client';
export type { TextCardInput, TextCardResult, WecomClientOptions, WecomConfig, WecomReadGroup, WecomSecrets } from './wecom.client';
export { WecomDirectorySource } from './wecom.directory-source';
export type { WecomDirectorySourceOptions, WecomMemberStrategy } from './wecom.directory-source';
export { WecomApiError, WecomErrcode, classifyWecomErrcode, isWecomError, isWecomSecretRefusal } from './wecom.errors';
export type { WecomErrorKind, WecomSecretKind } from './wecom.errors';
export type { WecomDepartment, WecomDepartmentId, WecomUser } from './wecom.schemas';
