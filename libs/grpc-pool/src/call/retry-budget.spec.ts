import { RetryBudget } from './retry-budget';

describe('RetryBudget', () => {
  it('allows minPerSecond x window plus ratio x requests, then refuses', () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 1, 10_000, () => now);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted++;
    expect(granted).toBe(30); // 10 (1/s over 10 s) + 20% of 100
    now += 11_000; // the window slid past every bucket
    expect(budget.tryAcquireRetry()).toBe(true);
  });
});
