// Entry point of a compute thread. Plain JavaScript so that it loads the same way under
// `node --import tsx`, vitest and plain node: it registers tsx for this thread, then loads the
// TypeScript task runner.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
