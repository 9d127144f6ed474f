/**
 * An EventBridge rule that invokes a function every N minutes (a ScheduleSpec), with the
 * input `{"source":"schedule","schedule":"<fn>"}` so the handler can tell a scheduled run
 * from a manual one.
 *
 * EventBridge invokes the function asynchronously: it retries a failed delivery (e.g. a
 * throttle) at most twice and drops events older than one interval, because the next tick
 * starts a fresh plan anyway; Lambda's own async retries cover a run that throws.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { ScheduleSpec } from '../../shared/contracts/app-manifest';

export interface BridgeScheduleProps {
  stage: string;
  spec: ScheduleSpec;
  rateMinutes: number;
  fn: IFunction;
}

export class BridgeSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: BridgeScheduleProps) {
    super(scope, id);
    const { spec, rateMinutes } = props;
    this.rule = new Rule(this, 'Rule', {
      ruleName: `qiye-bridge-${props.stage}-${spec.fn}`,
      description: `${spec.description} Every ${rateMinutes} minute(s).`,
      schedule: Schedule.rate(Duration.minutes(rateMinutes)),
      targets: [
        new LambdaFunction(props.fn, {
          event: RuleTargetInput.fromObject({ source: 'schedule', schedule: spec.fn }),
          retryAttempts: 2,
          // At least 60 s (EventBridge minimum); never older than one interval.
          maxEventAge: Duration.seconds(Math.max(60, rateMinutes * 60)),
        }),
      ],
    });
  }
}
