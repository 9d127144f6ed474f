import { MemoryConsoleStore } from '../../shared/adapters/memory/memory-console.store';
import { fixedClock } from '../../shared/ports/clock';
import { consoleStoreContract } from '../contracts/console-store.contract';

consoleStoreContract('memory', () => {
  const clock = fixedClock(Date.UTC(2026, 0, 1));
  return { store: new MemoryConsoleStore({ clock }), clock };
});
