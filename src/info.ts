// info(): what is serving this process's zlib calls, and how well batching works.
import { binding, nativeLoadError } from './native/binding';
import { currentConfig, openQueue } from './ring/current';

export interface Counters {
  descriptors: number;
  batches: number;
  completionBatches: number;
  bytesIn: number;
  bytesOut: number;
  /** Descriptors per submit call. */
  averageBatch: number;
  /** Completions per wake-up of the JavaScript thread. */
  averageCompletionBatch: number;
  /** Descriptors each codec ran: stream blocks, whole members, one-shot inflation, inflate stream steps. */
  codecRuns: { zlib: number; isal: number; libdeflate: number };
}

export interface Info {
  /** Device serving the queue, or 'none' when the addon could not load. */
  device: string;
  /** Why the device is 'none'; absent otherwise. */
  reason?: string;
  sva: boolean;
  workers: number;
  queueDepth: number;
  /** Whether this thread's queue is open yet (queues open on first use). */
  open: boolean;
  codecs: string[];
  /** Whether ISA-L was found, or why not. */
  isal?: string;
  pinned?: { bytes: number; locked: boolean; lockError?: string };
  counters: Counters;
  sourceHash?: string;
}

function counters(
  raw?: {
    descriptors: number;
    batches: number;
    completionBatches: number;
    bytesIn: number;
    bytesOut: number;
  },
  runs: readonly number[] = [0, 0, 0, 0],
): Counters {
  const c = raw ?? { descriptors: 0, batches: 0, completionBatches: 0, bytesIn: 0, bytesOut: 0 };
  return {
    ...c,
    codecRuns: { zlib: runs[1], isal: runs[2], libdeflate: runs[3] },
    averageBatch: c.batches > 0 ? c.descriptors / c.batches : 0,
    averageCompletionBatch: c.completionBatches > 0 ? c.descriptors / c.completionBatches : 0,
  };
}

export function info(): Info {
  if (binding === null) {
    return {
      device: 'none',
      reason: nativeLoadError,
      sva: false,
      workers: 0,
      queueDepth: 0,
      open: false,
      codecs: ['zlib (node:zlib)'],
      counters: counters(),
    };
  }
  const codecs = [binding.codecs.zlib];
  if (binding.codecs.libdeflate) codecs.push(binding.codecs.libdeflate);
  if (binding.codecs.isal) codecs.push(binding.codecs.isal);
  const queue = openQueue();
  if (queue === null) {
    const config = currentConfig();
    const device = binding.devices.find((d) => d.available && (!config.device || d.name === config.device));
    return {
      device: device?.name ?? 'none',
      sva: config.sva,
      workers: config.workers,
      queueDepth: config.queueDepth,
      open: false,
      codecs,
      isal: binding.codecs.isalStatus,
      counters: counters(),
      sourceHash: binding.sourceHash,
    };
  }
  const q = queue.info();
  return {
    device: q.device,
    sva: q.sva,
    workers: q.workers,
    queueDepth: q.queueDepth,
    open: true,
    codecs,
    isal: binding.codecs.isalStatus,
    pinned:
      q.regionBytes !== undefined
        ? { bytes: q.regionBytes, locked: q.regionLocked === true, lockError: q.regionLockError }
        : undefined,
    counters: counters(q.counters, queue.codecRuns),
    sourceHash: binding.sourceHash,
  };
}
