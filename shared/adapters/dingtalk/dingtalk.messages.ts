/**
 * Work-notification message bodies for topapi/message/corpconversation/asyncsend_v2
 * (reference dingtalk.md §6). Shapes, from the doc excerpt quoted there:
 *   markdown{title,text}; link{messageUrl,picUrl,title,text} (camelCase inside);
 *   action_card{title,markdown,single_title,single_url}.
 * The whole `msg` must stay within 2048 bytes; builders trim free text (mail subjects
 * can be long) and refuse a URL that would not fit, since a cut URL would be broken.
 */
import { ValidationError } from '../../errors/app-error';
import { truncateUtf8 } from '../http/utf8';

export { truncateUtf8 };

export type DingtalkWorkMessage =
  | { msgtype: 'action_card'; action_card: { title: string; markdown: string; single_title: string; single_url: string } }
  | { msgtype: 'link'; link: { messageUrl: string; picUrl: string; title: string; text: string } }
  | { msgtype: 'markdown'; markdown: { title: string; text: string } }
  | { msgtype: 'text'; text: { content: string } };

export const DINGTALK_MSG_MAX_BYTES = 2048;

function requireHttpUrl(name: string, url: string): void {
  if (!/^https?:\/\/\S+$/.test(url)) throw new ValidationError(`${name} must be an http(s) URL`, { code: 'DINGTALK.INVALID_MESSAGE' });
  if (Buffer.byteLength(url, 'utf8') > 1024) throw new ValidationError(`${name} is longer than 1024 bytes`, { code: 'DINGTALK.INVALID_MESSAGE' });
}

/** Markdown special characters escaped, so a mail subject cannot inject links or formatting. */
export function escapeMarkdown(s: string): string {
  return s.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');
}

/** An action card with one button: the usual "new mail" card, the button opening the SSO link. */
export function actionCardMessage(input: { title: string; markdown: string; buttonTitle: string; url: string }): DingtalkWorkMessage {
  requireHttpUrl('url', input.url);
  return {
    msgtype: 'action_card',
    action_card: {
      title: truncateUtf8(input.title, 128),
      markdown: truncateUtf8(input.markdown, 700),
      single_title: truncateUtf8(input.buttonTitle, 60),
      single_url: input.url,
    },
  };
}

/** A link card (title, text, picture) that opens `url`. DingTalk requires the picture (a URL or a media id). */
export function linkMessage(input: { title: string; text: string; url: string; picUrl: string }): DingtalkWorkMessage {
  requireHttpUrl('url', input.url);
  if (!input.picUrl) throw new ValidationError('picUrl is required for a link message', { code: 'DINGTALK.INVALID_MESSAGE' });
  return { msgtype: 'link', link: { messageUrl: input.url, picUrl: input.picUrl, title: truncateUtf8(input.title, 128), text: truncateUtf8(input.text, 500) } };
}

export function markdownMessage(input: { title: string; text: string }): DingtalkWorkMessage {
  return { msgtype: 'markdown', markdown: { title: truncateUtf8(input.title, 128), text: truncateUtf8(input.text, 1500) } };
}

/** Throws when the serialized `msg` exceeds DingTalk's 2048-byte limit. */
export function assertMessageSize(msg: DingtalkWorkMessage): void {
  const n = Buffer.byteLength(JSON.stringify(msg), 'utf8');
  if (n > DINGTALK_MSG_MAX_BYTES) {
    throw new ValidationError(`DingTalk work notification is ${n} bytes; the limit is ${DINGTALK_MSG_MAX_BYTES}`, { code: 'DINGTALK.INVALID_MESSAGE' });
  }
}
