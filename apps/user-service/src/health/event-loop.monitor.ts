import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';

/** What `/health/live` reports about the event loop (ms, over the last 10–20 s). */
export interface EventLoopDelay {
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  windowMs: number;
}

const WINDOW_MS = 10_000;
const RESOLUTION_MS = 20;

/**
 * The event loop's delay (`perf_hooks.monitorEventLoopDelay`, sampled every 20 ms) over a rolling
 * window: the current 10 s and the previous one, so a stall stays visible for at least 10 s after
 * it ended. Reported, not judged: a loop that is stuck cannot answer the probe at all, and the
 * kubelet's `timeoutSeconds` is what fails it then; the figures tell afterwards how long it was.
 */
@Injectable()
export class EventLoopMonitor implements OnModuleInit, OnApplicationShutdown {
  private histogram?: ELDHistogram;
  private previous: EventLoopDelay = { maxMs: 0, p99Ms: 0, meanMs: 0, windowMs: 0 };
  private rotatedAt = 0;

  onModuleInit(): void {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.rotatedAt = Date.now();
  }

  onApplicationShutdown(): void {
    this.histogram?.disable();
  }

  /** Delay figures of the current window merged with the previous one (max of both). */
  delay(): EventLoopDelay {
    const h = this.histogram;
    if (!h) return this.previous;
    const now = Date.now();
    const current = figures(h, now - this.rotatedAt);
    const merged: EventLoopDelay = {
      maxMs: Math.max(current.maxMs, this.previous.maxMs),
      p99Ms: Math.max(current.p99Ms, this.previous.p99Ms),
      meanMs: current.meanMs,
      windowMs: current.windowMs + this.previous.windowMs,
    };
    // rotated on read: no timer, and a probe every few seconds reads it often enough
    if (current.windowMs >= WINDOW_MS) {
      this.previous = current;
      this.rotatedAt = now;
      h.reset();
    }
    return merged;
  }
}

function figures(h: ELDHistogram, windowMs: number): EventLoopDelay {
  // the histogram records the time between two samples: the delay is what exceeds the resolution
  const ms = (ns: number): number =>
    Number.isFinite(ns) ? Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100) : 0;
  return {
    maxMs: ms(h.max),
    p99Ms: ms(h.percentile(99)),
    meanMs: ms(h.mean),
    windowMs,
  };
}
