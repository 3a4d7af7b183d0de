import { register } from 'prom-client';

type PeerModule = typeof import('./prometheus.peer');

describe('metrics through the optional prom-client peer', () => {
  beforeEach(() => register.clear());

  it('registers metrics in the default registry and reuses one already registered under the name', async () => {
    const { counter } = jest.requireActual<PeerModule>('./prometheus.peer');
    const first = counter({ name: 'peer_spec_total', help: 'h', labelNames: ['topic'] });
    const second = counter({ name: 'peer_spec_total', help: 'h', labelNames: ['topic'] });
    expect(second).toBe(first);
    first.labels('t').inc(2);
    expect((await register.getSingleMetric('peer_spec_total')!.get()).values[0].value).toBe(2);
  });

  it('hands out no-op metrics when prom-client is not installed, so the app still boots', () => {
    jest.isolateModules(() => {
      jest.doMock('prom-client', () => {
        throw Object.assign(new Error("Cannot find module 'prom-client'"), {
          code: 'MODULE_NOT_FOUND',
        });
      });
      const { counter, gauge, histogram } = require('./prometheus.peer') as PeerModule;
      const c = counter({ name: 'peer_noop_total', help: 'h', labelNames: ['topic'] });
      const g = gauge({ name: 'peer_noop_gauge', help: 'h' });
      const h = histogram({ name: 'peer_noop_seconds', help: 'h' });
      expect(() => {
        c.inc({ topic: 't' });
        c.labels('t').inc(3);
        g.set(1);
        g.labels().dec();
        h.observe(0.1);
        h.labels().observe(0.2);
        h.startTimer()();
      }).not.toThrow();
    });
    jest.dontMock('prom-client');
    expect(register.getSingleMetric('peer_noop_total')).toBeUndefined();
  });
});
