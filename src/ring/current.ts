// The queue of this process (or worker thread): opened on first use, never at
// require time, so a forked or freshly started thread maps its own queue.
import { binding } from '../native/binding';
import { errInvalidArgType, errOutOfRange } from '../errors';
import { CONFIG_LIMITS, type Config, type ConfigOptions, configFromEnv } from './config';
import { DescriptorQueue } from './queue';

let config: Config = configFromEnv();
let queue: DescriptorQueue | null = null;

export function currentConfig(): Readonly<Config> {
  return queue ? queue.config : config;
}

/** The open queue, opening it if needed. Only valid when the addon loaded. */
export function currentQueue(): DescriptorQueue {
  if (queue === null) {
    if (binding === null) throw new Error('uaccel: native addon unavailable');
    queue = new DescriptorQueue(binding, config);
  }
  return queue;
}

/** The queue if one is open, without opening it. */
export function openQueue(): DescriptorQueue | null {
  return queue;
}

function checkInt(value: unknown, name: keyof typeof CONFIG_LIMITS): number {
  const [min, max] = CONFIG_LIMITS[name];
  if (typeof value !== 'number') throw errInvalidArgType(`options.${name}`, 'number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errOutOfRange(`options.${name}`, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

/**
 * Changes the queue configuration for streams created from now on. The open
 * queue is retired: streams already using it keep it until they close, and it
 * closes after them.
 */
export function configure(options: ConfigOptions): Readonly<Config> {
  if (options === null || typeof options !== 'object') {
    throw errInvalidArgType('options', 'Object', options);
  }
  const next: Config = { ...config };
  if (options.sva !== undefined) {
    if (typeof options.sva !== 'boolean') throw errInvalidArgType('options.sva', 'boolean', options.sva);
    next.sva = options.sva;
  }
  if (options.queueDepth !== undefined) next.queueDepth = checkInt(options.queueDepth, 'queueDepth');
  if (options.workers !== undefined) next.workers = checkInt(options.workers, 'workers');
  if (options.pinnedBytes !== undefined) next.pinnedBytes = checkInt(options.pinnedBytes, 'pinnedBytes');
  if (options.blockSize !== undefined) next.blockSize = checkInt(options.blockSize, 'blockSize');
  if (options.device !== undefined) {
    if (typeof options.device !== 'string') {
      throw errInvalidArgType('options.device', 'string', options.device);
    }
    next.device = options.device;
  }
  if (queue !== null) {
    queue.retire();
    queue = null;
  }
  config = next;
  return { ...config };
}
