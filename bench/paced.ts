import { Agent, request } from 'node:http';
import type { SignedPush } from './fixtures';

/**
 * A steady open-loop load: one request every 1000/rate ms whatever the answers do, each timed from the moment it
 * was due (as wrk2 does), so a stall is charged to every request it held up. autocannon has no such mode: its
 * overallRate gives each connection a budget per second that it spends back to back as each second starts
 * (lib/httpClient.js), which makes "200 requests a second" a burst at full load every second.
 */

export interface PacedResult {
  /** From each request's due time to the end of its answer. */
  latenciesMs: number[];
  failures: number;
  seconds: number;
  sent: number;
}

/** `url` may name several servers (a fleet behind a load balancer): the pushes go to them in turn. */
export function paced(url: string | readonly string[], rate: number, seconds: number, next: () => SignedPush): Promise<PacedResult> {
  const urls = typeof url === 'string' ? [url] : url;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  const latenciesMs: number[] = [];
  let failures = 0;
  let answered = 0;
  let sent = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const done = () => {
      if (++answered < total) return;
      agent.destroy();
      resolve({ latenciesMs, failures, seconds: (performance.now() - start) / 1000, sent });
    };
    const send = (dueAt: number) => {
      const push = next();
      const headers = { ...push.headers, 'content-length': String(Buffer.byteLength(push.body)) };
      const req = request(urls[sent % urls.length] as string, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) latenciesMs.push(performance.now() - dueAt);
          else failures++;
          done();
        });
      });
      req.on('error', () => {
        failures++;
        done();
      });
      req.end(push.body);
    };
    const tick = () => {
      while (sent < total && start + sent * interval <= performance.now()) send(start + sent++ * interval);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
}
