/**
 * Group robot webhooks for console alerts. The reference (../shared/reference) is silent on
 * robots; this follows the vendors' public robot documentation:
 * - DingTalk custom robot: POST the webhook URL (`https://oapi.dingtalk.com/robot/send?access_token=…`)
 *   with `{msgtype: "markdown", markdown: {title, text}}`; with 加签 the URL also carries
 *   `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")).
 *   Success is `{errcode: 0}`.
 * - WeCom group robot: POST `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` with
 *   `{msgtype: "markdown", markdown: {content}}`; success is `{errcode: 0}`.
 * The webhook URL holds the robot's token, so it lives in the tenant's `alerts` secret and is
 * never logged (httpRequest's errors name host and path only).
 */
import { createHmac } from 'node:crypto';
import { UpstreamError } from '../../errors/app-error';
import { httpRequest, isRetryableStatus } from './http-request';

export async function postRobotMarkdown(input: { vendor: 'dingtalk' | 'wecom'; webhookUrl: string; signSecret?: string; title: string; markdown: string; now: number; timeoutMs?: number }): Promise<void> {
  const url = new URL(input.webhookUrl);
  if (input.vendor === 'dingtalk' && input.signSecret) {
    const ts = String(input.now);
    url.searchParams.set('timestamp', ts);
    url.searchParams.set('sign', createHmac('sha256', input.signSecret).update(`${ts}\n${input.signSecret}`).digest('base64'));
  }
  const body = input.vendor === 'dingtalk' ? { msgtype: 'markdown', markdown: { title: input.title, text: input.markdown } } : { msgtype: 'markdown', markdown: { content: input.markdown } };
  const res = await httpRequest({ vendor: input.vendor, url: url.toString(), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), timeoutMs: input.timeoutMs ?? 10_000 });
  let errcode: unknown;
  try {
    errcode = (JSON.parse(res.text) as { errcode?: unknown }).errcode;
  } catch {
    errcode = undefined;
  }
  if (res.status !== 200 || errcode !== 0) {
    throw new UpstreamError(input.vendor, 'ALERT.ROBOT_REFUSED', `${input.vendor} group robot answered HTTP ${res.status} errcode ${String(errcode)}`, { retryable: isRetryableStatus(res.status) });
  }
}
