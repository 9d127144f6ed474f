/**
 * AlertChannels from the vendor clients the bridge already has: a DingTalk work notice
 * (asyncsend_v2, markdown), a WeCom app message (textcard), or a group robot webhook; and
 * the alarm topic. Part of the wiring (it picks adapters): shared/wiring/console.ts passes
 * the tenant clients, the robot webhook and the SNS topic.
 *
 * Recipients: `console.alerts.recipients`, else the tenant admins who sign in through that
 * vendor (`dingtalk:<userid>` in console.admins).
 */
import { escapeMarkdown, markdownMessage } from '../adapters/dingtalk/dingtalk.messages';
import type { DingtalkNotifier } from '../adapters/dingtalk/dingtalk.notice-sender';
import type { WecomNotifier } from '../adapters/wecom/wecom.notice-sender';
import type { TenantConfig } from '../config/tenant-config.schema';
import type { Alert, AlertChannels } from '../ports/alert-channels';

export interface RobotMessage {
  title: string;
  markdown: string;
}

export interface AlertChannelClients {
  dingtalk(tenant: TenantConfig): DingtalkNotifier;
  wecom(tenant: TenantConfig): WecomNotifier;
  /** Post to the tenant's group robot (its `alerts` secret). */
  robot(tenant: TenantConfig, message: RobotMessage): Promise<void>;
  /** Publish to the alarm topic; false when there is none (local stack). */
  topic(subject: string, message: string): Promise<boolean>;
}

export function alertRecipients(tenant: TenantConfig, vendor: 'dingtalk' | 'wecom'): string[] {
  const given = tenant.console.alerts.recipients;
  if (given?.length) return given;
  return tenant.console.admins.filter((a) => a.startsWith(`${vendor}:`)).map((a) => a.slice(vendor.length + 1));
}

export function alertMarkdown(alert: Alert): string {
  return [`### ${escapeMarkdown(alert.title)}`, ...alert.lines.map((l) => escapeMarkdown(l)), `[打开控制台 Open in console](${alert.url})`].join('\n\n');
}

export function alertText(alert: Alert): string {
  return [alert.title, ...alert.lines, alert.url].join('\n');
}

export function makeAlertChannels(clients: AlertChannelClients): AlertChannels {
  return {
    async toTenant(tenant, alert) {
      const channel = tenant.console.alerts.channel;
      if (channel === 'none') return false;
      if (channel === 'robot') {
        await clients.robot(tenant, { title: alert.title, markdown: alertMarkdown(alert) });
        return true;
      }
      const to = alertRecipients(tenant, channel);
      if (to.length === 0) return false;
      if (channel === 'dingtalk') {
        await clients.dingtalk(tenant).sendWorkNotification({ userIds: to, msg: markdownMessage({ title: alert.title, text: alertMarkdown(alert) }) });
      } else {
        const h = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
        await clients.wecom(tenant).sendTextCard({ userIds: to, title: alert.title, description: alert.lines.map((l) => `<div class="normal">${h(l)}</div>`).join(''), url: alert.url, buttonText: '查看' });
      }
      return true;
    },
    toOperators: (alert) => clients.topic(alert.title.slice(0, 99), alertText(alert)),
  };
}
