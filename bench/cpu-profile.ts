// A CPU profile of the gateway's isolate in workerd, over the Chrome DevTools protocol that
// Miniflare's inspector proxy serves on loopback (WorkerOptions.inspectorPort). The bundle is
// minified as deployed; its source map (wrangler writes it next to the bundle) names the frames.

import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileFrame {
  /** `name (file:line)`, or the runtime's own `(program)`, `(garbage collector)`, `(idle)`. */
  frame: string;
  selfMs: number;
  /** Share of the sampled time that was not idle. */
  selfPercent: number;
}

export interface CpuProfileSummary {
  sampledMs: number;
  idleMs: number;
  top: ProfileFrame[];
}

/** A session on the isolate named `workerName` (Miniflare's `/json/list` names each user Worker). */
export async function openProfiler(inspectorPort: number, workerName: string) {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((entry) => entry.id.endsWith(`:${workerName}`)) ?? targets[0];
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('inspector connection failed')), { once: true });
  });
  let nextId = 1;
  const waiting = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id !== undefined) waiting.get(message.id)?.(message);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (message) => {
        waiting.delete(id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  // 100 µs between samples: fine enough for frames of a few µs each over a 10 s load.
  await call('Profiler.setSamplingInterval', { interval: 100 });
  return {
    start: () => call('Profiler.start'),
    stop: async (): Promise<Profile> => ((await call('Profiler.stop')) as { profile: Profile }).profile,
    close: () => socket.close(),
  };
}

/** Self time by frame (same function at the same place summed), the largest first. */
export function summarizeProfile(profile: Profile, scriptPath: string, top = 15): CpuProfileSummary {
  const mapFile = `${scriptPath}.map`;
  const sourceMap = existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined;
  const bundleName = path.basename(scriptPath);
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let index = 0; index < samples.length; index += 1) {
    const node = byNode.get(samples[index] ?? -1);
    if (!node) continue;
    // A sample's time is the gap to the next one.
    const us = deltas[index + 1] ?? 0;
    const key = frameName(node, bundleName, sourceMap);
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  }
  const idleUs = selfUs.get('(idle)') ?? 0;
  const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
  const busyUs = Math.max(totalUs - idleUs, 1);
  const frames = [...selfUs.entries()]
    .filter(([frame]) => frame !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({
      frame,
      selfMs: Math.round(us / 100) / 10,
      selfPercent: Math.round((us / busyUs) * 1000) / 10,
    }));
  return { sampledMs: Math.round(totalUs / 1000), idleMs: Math.round(idleUs / 1000), top: frames };
}

function frameName(node: ProfileNode, bundleName: string, sourceMap: SourceMap | undefined): string {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `${functionName || '(anonymous)'} (native)`;
  const file = url.split('/').pop() ?? url;
  if (sourceMap && file === bundleName) {
    // The function's start in the bundle, back to its source file, line and (unminified) name.
    const origin = sourceMap.findOrigin(lineNumber + 1, columnNumber + 1);
    if ('fileName' in origin) {
      const source = origin.fileName.replace(/^.*?(node_modules\/|src\/)/, '$1');
      return `${origin.name || functionName || '(anonymous)'} (${source}:${origin.lineNumber})`;
    }
  }
  return `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})`;
}
