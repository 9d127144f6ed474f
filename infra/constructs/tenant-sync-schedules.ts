/**
 * One schedule per tenant (and kind) into the sync planner, from tenantSyncSchedules() in
 * the manifest. Two implementations, chosen per deployment (cdk context `scheduleKind`):
 *
 * - `scheduler` (default): EventBridge Scheduler schedules (`AWS::Scheduler::Schedule`),
 *   cron in the tenant's own time zone (`ScheduleExpressionTimezone`), invoking the planner
 *   through a role that may invoke exactly that function.
 * - `rules`: EventBridge rules with cron in UTC, for regions where Scheduler is not offered.
 *   Whether the China regions offer EventBridge Scheduler is unconfirmed (reference
 *   toolchain.md, "AWS China regions"), so cn-* regions default to rules. A rule has no
 *   time zone: the tenant's cron is shifted to UTC, which is exact for zones without
 *   daylight saving (Asia/Shanghai is +08:00 all year) and whole-hour offsets; anything
 *   else is refused at synth with the reason, rather than firing at the wrong hour.
 *
 * Both send the input `{source:'schedule', schedule:'tenantSync', tenantId, kind}`, retry a
 * failed delivery at most twice and drop a delivery older than the interval (the next run
 * re-plans anyway).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { tenantScheduleEvent, type TenantSyncSchedule } from '../../shared/contracts/app-manifest';
import { fixedOffsetMinutes, parseCron } from '../../shared/domain/cron';

export type ScheduleKind = 'scheduler' | 'rules';

export interface TenantSyncSchedulesProps {
  stage: string;
  schedules: readonly TenantSyncSchedule[];
  fn: IFunction;
  kind: ScheduleKind;
}

/** Scheduler's cron: `min hour dom month dow year`, one day field `?`, Sunday = 1. */
export function awsCron(expr: string, shiftHours = 0): string {
  const c = parseCron(expr);
  const [min, hour, dom, month] = c.source;
  if (c.domRestricted && c.dowRestricted) throw new Error(`cron "${expr}": AWS cron cannot restrict both day of month and day of week`);
  let hours = hour;
  let dayShift = 0;
  if (shiftHours !== 0) {
    const shifted = [...c.hours].map((h) => h - shiftHours);
    const deltas = new Set(shifted.map((h) => Math.floor(h / 24)));
    if ((c.domRestricted || c.dowRestricted) && deltas.size > 1) throw new Error(`cron "${expr}": its hours fall on different UTC days; write it in UTC (timezone "UTC")`);
    if (c.domRestricted && [...deltas][0] !== 0) throw new Error(`cron "${expr}": its day of month falls on another UTC day; write it in UTC (timezone "UTC")`);
    dayShift = [...deltas][0]!;
    hours = hour === '*' ? '*' : [...new Set(shifted.map((h) => ((h % 24) + 24) % 24))].sort((a, b) => a - b).join(',');
  }
  const dow = c.dowRestricted ? [...new Set([...c.daysOfWeek].map((d) => (((d + dayShift) % 7) + 7) % 7 + 1))].sort((a, b) => a - b).join(',') : '?';
  return `${min} ${hours} ${c.dowRestricted ? '?' : dom} ${month} ${dow} *`;
}

/** The UTC rule expression for a tenant cron in `timezone`; throws (with the reason) when a rule cannot express it. */
export function utcRuleCron(expr: string, timezone: string): string {
  const offset = fixedOffsetMinutes(timezone);
  if (offset === undefined) throw new Error(`time zone ${timezone} has daylight saving: EventBridge rules run in UTC only; use scheduleKind=scheduler or a UTC cron`);
  if (offset % 60 !== 0) throw new Error(`time zone ${timezone} is not a whole number of hours from UTC; write the cron in UTC`);
  return awsCron(expr, offset / 60);
}

export class TenantSyncSchedules extends Construct {
  readonly kind: ScheduleKind;
  readonly schedules: CfnSchedule[] = [];
  readonly rules: Rule[] = [];

  constructor(scope: Construct, id: string, props: TenantSyncSchedulesProps) {
    super(scope, id);
    this.kind = props.kind;
    if (props.schedules.length === 0) return;
    const { stage, fn } = props;
    if (props.kind === 'scheduler') {
      const role = new Role(this, 'InvokeRole', {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
        description: `EventBridge Scheduler invokes the sync planner of qiye-bridge ${stage}`,
      });
      // Exactly the function (no version wildcard): the schedules invoke $LATEST.
      role.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }));
      for (const s of props.schedules) {
        this.schedules.push(
          new CfnSchedule(this, `S-${s.name}`, {
            name: `qiye-bridge-${stage}-${s.name}`.slice(0, 64),
            description: s.description,
            scheduleExpression: s.cron ? `cron(${awsCron(s.cron)})` : `rate(${s.rateMinutes} minutes)`,
            ...(s.cron ? { scheduleExpressionTimezone: s.timezone } : {}),
            flexibleTimeWindow: { mode: 'OFF' },
            state: 'ENABLED',
            target: {
              arn: fn.functionArn,
              roleArn: role.roleArn,
              input: JSON.stringify(tenantScheduleEvent(s)),
              retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: Math.max(60, (s.rateMinutes ?? 60) * 60) },
            },
          }),
        );
      }
      return;
    }
    for (const s of props.schedules) {
      this.rules.push(
        new Rule(this, `R-${s.name}`, {
          ruleName: `qiye-bridge-${stage}-${s.name}`.slice(0, 64),
          description: `${s.description}${s.cron ? ' (UTC rule)' : ''}`.slice(0, 512),
          schedule: s.cron ? Schedule.expression(`cron(${utcRuleCron(s.cron, s.timezone)})`) : Schedule.rate(Duration.minutes(s.rateMinutes!)),
          targets: [new LambdaFunction(fn, { event: RuleTargetInput.fromObject(tenantScheduleEvent(s)), retryAttempts: 2, maxEventAge: Duration.seconds(Math.max(60, (s.rateMinutes ?? 60) * 60)) })],
        }),
      );
    }
  }
}
