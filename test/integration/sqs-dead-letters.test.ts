/** DeadLetterQueues over the wire: fauxqs with every manifest queue and DLQ (local/queues.ts). */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQueues, type RunningQueues } from '../../local/queues';
import { SqsDeadLetterQueues } from '../../shared/adapters/aws/sqs.dead-letters';
import { dlqUrlEnv, queueUrlEnv } from '../../shared/contracts/app-manifest';

let sqs: RunningQueues;
let dlq: SqsDeadLetterQueues;

beforeAll(async () => {
  sqs = await startQueues({ port: 0, stage: 'dlqtest' });
  const env: NodeJS.ProcessEnv = {};
  for (const q of Object.values(sqs.queues)) {
    env[queueUrlEnv(q.name)] = q.url;
    env[dlqUrlEnv(q.name)] = q.dlqUrl;
  }
  dlq = SqsDeadLetterQueues.fromEnv(env, sqs.client)!;
});

afterAll(async () => {
  await sqs?.stop();
});

describe('SQS dead letters', () => {
  it('reports each DLQ\'s depth and moves its messages back to the queue, bodies unchanged', async () => {
    for (const n of [1, 2, 3]) await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queues.sync.dlqUrl, MessageBody: JSON.stringify({ v: 1, n }) }));
    expect((await dlq.depths()).find((d) => d.queue === 'sync')).toEqual({ queue: 'sync', messages: 0, deadLetters: 3 });
    expect(await dlq.redrive('sync', 2)).toEqual({ moved: 2 });
    expect(await dlq.redrive('sync', 100)).toEqual({ moved: 1 });
    expect((await dlq.depths()).find((d) => d.queue === 'sync')).toEqual({ queue: 'sync', messages: 3, deadLetters: 0 });
    const bodies = (await sqs.inspect(sqs.queues.sync.physicalName))!;
    expect(JSON.stringify(bodies)).toContain('\\"n\\":3');
  });

  it('is absent where the function is not wired to the DLQs', () => {
    expect(SqsDeadLetterQueues.fromEnv({})).toBeUndefined();
  });
});
