/** DingTalk adapter: API client, directory source, work-notification messages, errors. */
export { DingtalkClient, createDingtalkClient, DINGTALK_NOTIFY_MAX_USERS, DINGTALK_USER_PAGE_MAX } from './dingtalk.client';
export type { DingtalkClientOptions, DingtalkConfig } from './dingtalk.client';
export { DingtalkDirectorySource } from './dingtalk.directory-source';
export type { DingtalkDirectorySourceOptions } from './dingtalk.directory-source';
export { DingtalkApiError, DingtalkErrcode, classifyDingtalkErrcode, isDingtalkError } from './dingtalk.errors';
export type { DingtalkErrorKind } from './dingtalk.errors';
export { actionCardMessage, assertMessageSize, escapeMarkdown, linkMessage, markdownMessage, truncateUtf8 } from './dingtalk.messages';
export type { DingtalkWorkMessage } from './dingtalk.messages';
export type { DingtalkDepartmentDetail, DingtalkDepartmentSummary, DingtalkUser, DingtalkUserPage } from './dingtalk.schemas';
