import { fixedClock } from '../../shared/ports/clock';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { stateStoreContract } from '../contracts/state-stores.contract';

// The in-memory twins pass the same contract as the DynamoDB adapters
// (test/integration/dynamo-stores.test.ts), so use-case tests can rely on them.
stateStoreContract('memory', async () => {
  const clock = fixedClock(Date.UTC(2024, 4, 1, 12, 0, 0, 123));
  return { stores: createMemoryStateStores({ clock }), clock };
});
