/** Publishes console alerts to the deployment's alarm topic (ALARM_TOPIC_ARN), beside the CloudWatch alarms. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

export function snsAlarmTopic(env: NodeJS.ProcessEnv = process.env, client?: SNSClient): (subject: string, message: string) => Promise<boolean> {
  const arn = env.ALARM_TOPIC_ARN;
  let sns = client;
  return async (subject, message) => {
    if (!arn) return false;
    sns ??= new SNSClient({});
    // SNS subjects: ASCII-printable only, at most 100 characters.
    const ascii = subject.replace(/[^\x20-\x7e]/g, '').trim().slice(0, 99) || 'qiye-bridge alert';
    await sns.send(new PublishCommand({ TopicArn: arn, Subject: ascii, Message: message }));
    return true;
  };
}
