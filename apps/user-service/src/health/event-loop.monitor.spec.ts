import { EventLoopMonitor } from './event-loop.monitor';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('EventLoopMonitor', () => {
  it('reports a blocked event loop in its recent max, in ms beyond the sampling interval', async () => {
    const monitor = new EventLoopMonitor();
    monitor.onModuleInit();
    try {
      await sleep(100);
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // blocks the loop
      }
      await sleep(60);
      const delay = monitor.delay();
      expect(delay.maxMs).toBeGreaterThanOrEqual(250);
      expect(delay.maxMs).toBeLessThan(2_000);
      expect(delay.windowMs).toBeGreaterThanOrEqual(400);
    } finally {
      monitor.onApplicationShutdown();
    }
  });
});
