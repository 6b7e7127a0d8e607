// Errors and argument validators shaped exactly like node's internal ones
// (class, own enumerable `code`, message text, stack header), so that code
// written against node:zlib sees the same errors from us.
import { format, inspect } from 'util';

type Coded<E extends Error> = E & { code: string };
type AnyFunction = (...args: never[]) => unknown;

// Node's own stack formatter (installed as Error.prepareStackTrace on newer
// releases, absent on older ones) prints its errors as "Name [CODE]: message";
// a user-installed formatter treats them like any other error.
function nodeFormatsStacks(): boolean {
  const formatter = Error.prepareStackTrace;
  return formatter === undefined || formatter.name === 'ErrorPrepareStackTrace';
}

// V8 builds the stack's first line from `name` the first time `stack` is
// read, so the code is put into `name` just for that read.
function captureCodedStack(err: Coded<Error>, hideFrom: Function): void {
  Error.captureStackTrace(err, hideFrom);
  if (!nodeFormatsStacks()) return;
  const name = err.name;
  Object.defineProperty(err, 'name', { value: `${name} [${err.code}]`, configurable: true, writable: true });
  void err.stack;
  Reflect.deleteProperty(err, 'name');
}

function codedToString(this: Coded<Error>): string {
  return `${this.name} [${this.code}]: ${this.message}`;
}

type CodedErrorClass<T extends Error> = new (code: string, message: string, hideFrom?: Function) => Coded<T>;

// One coded subclass per base. As in node, `err.constructor` is the plain
// base class and toString() shows the code.
function codedClass<T extends Error>(Base: new (message: string) => T): CodedErrorClass<T> {
  const Cls = class extends (Base as new (message: string) => Error) {
    readonly code: string;
    constructor(code: string, message: string, hideFrom: Function = new.target) {
      super(message);
      this.code = code;
      captureCodedStack(this as Coded<Error>, hideFrom);
    }
  };
  Object.defineProperty(Cls.prototype, 'constructor', { get: () => Base, configurable: true });
  Object.defineProperty(Cls.prototype, 'toString', {
    value: codedToString,
    writable: true,
    configurable: true,
  });
  return Cls as unknown as CodedErrorClass<T>;
}

const NodeError = codedClass(Error);
const NodeTypeError = codedClass(TypeError);
const NodeRangeError = codedClass(RangeError);

function isCoded(err: unknown): err is Coded<Error> {
  return err instanceof NodeError || err instanceof NodeTypeError || err instanceof NodeRangeError;
}

// Errors thrown from inside a validator start their stack at the validator's
// caller, however deeply validators call each other.
function hideStackFrames<F extends AnyFunction>(fn: F): F {
  const wrapped = function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    try {
      return fn.apply(this, args) as ReturnType<F>;
    } catch (err) {
      if (isCoded(err)) captureCodedStack(err, wrapped);
      throw err;
    }
  };
  return wrapped as unknown as F;
}

// ---- message helpers ----

const kTypes = [
  'string',
  'function',
  'number',
  'object',
  'Function',
  'Object',
  'boolean',
  'bigint',
  'symbol',
];
const classRegExp = /^[A-Z][a-zA-Z0-9]*$/;

function formatList(items: string[], joiner: string): string {
  if (items.length <= 1) return items.join('');
  if (items.length === 2) return `${items[0]} ${joiner} ${items[1]}`;
  return `${items.slice(0, -1).join(', ')}, ${joiner} ${items[items.length - 1]}`;
}

function addNumericalSeparator(digits: string): string {
  let res = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${digits.slice(i - 3, i)}${res}`;
  return `${digits.slice(0, i)}${res}`;
}

function truncate(text: string): string {
  return text.length > 28 ? `${text.slice(0, 25)}...` : text;
}

function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      // Like node, a primitive `constructor` makes the `in` check throw.
      const ctor = (value as { constructor?: unknown }).constructor as object | undefined;
      if (ctor && 'name' in ctor) return `an instance of ${String(ctor.name)}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const shown = truncate(value);
      return shown.includes("'") ? `type string (${JSON.stringify(shown)})` : `type string ('${shown}')`;
    }
    default:
      return `type ${typeof value} (${truncate(inspect(value, { colors: false }))})`;
  }
}

function invalidArgTypeMessage(name: string, expected: string | string[], actual: unknown): string {
  let msg = 'The ';
  if (name.endsWith(' argument')) msg += `${name} `;
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  msg += 'must be ';

  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const value of Array.isArray(expected) ? expected : [expected]) {
    if (kTypes.includes(value)) types.push(value.toLowerCase());
    else if (classRegExp.test(value)) instances.push(value);
    else other.push(value);
  }
  // With instances listed, "object" reads better as the class "Object".
  if (instances.length > 0) {
    const pos = types.indexOf('object');
    if (pos !== -1) {
      types.splice(pos, 1);
      instances.push('Object');
    }
  }

  const parts: string[] = [];
  if (types.length > 0)
    parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types, 'or')}`);
  if (instances.length > 0) parts.push(`an instance of ${formatList(instances, 'or')}`);
  if (other.length > 1) parts.push(`one of ${formatList(other, 'or')}`);
  else if (other.length === 1) parts.push(`${other[0].toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`);
  return `${msg}${parts.join(' or ')}. Received ${describeReceived(actual)}`;
}

function receivedInRange(input: unknown): string {
  if (Number.isInteger(input) && Math.abs(input as number) > 2 ** 32)
    return addNumericalSeparator(String(input));
  if (typeof input === 'bigint') {
    const digits = String(input);
    return `${input > 2n ** 32n || input < -(2n ** 32n) ? addNumericalSeparator(digits) : digits}n`;
  }
  return inspect(input);
}

// ---- error factories ----

export function errInvalidArgType(name: string, expected: string | string[], actual: unknown): TypeError {
  return new NodeTypeError(
    'ERR_INVALID_ARG_TYPE',
    invalidArgTypeMessage(name, expected, actual),
    errInvalidArgType,
  );
}

export function errOutOfRange(name: string, range: string, input: unknown): RangeError {
  const message = `The value of "${name}" is out of range. It must be ${range}. Received ${receivedInRange(input)}`;
  return new NodeRangeError('ERR_OUT_OF_RANGE', message, errOutOfRange);
}

export function errInvalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  const kind = name.includes('.') ? 'property' : 'argument';
  return new NodeTypeError(
    'ERR_INVALID_ARG_VALUE',
    `The ${kind} '${name}' ${reason}. Received ${shown}`,
    errInvalidArgValue,
  );
}

export function errBufferTooLarge(max: number): RangeError {
  return new NodeRangeError(
    'ERR_BUFFER_TOO_LARGE',
    format('Cannot create a Buffer larger than %s bytes', max),
    errBufferTooLarge,
  );
}

export function errInvalidState(msg: string): Error {
  return new NodeError('ERR_INVALID_STATE', format('Invalid state: %s', msg), errInvalidState);
}

export function errStreamDestroyed(method: string): Error {
  return new NodeError(
    'ERR_STREAM_DESTROYED',
    format('Cannot call %s after a stream was destroyed', method),
    errStreamDestroyed,
  );
}

/** Node raises this one from C++: a plain Error whose stack header carries no code. */
export function errZlibInitializationFailed(): Error {
  const err = Object.assign(new Error('Initialization failed'), { code: 'ERR_ZLIB_INITIALIZATION_FAILED' });
  Error.captureStackTrace(err, errZlibInitializationFailed);
  return err;
}

/** The error a zlib stream fails with when the codec reports a problem. */
export function zlibError(
  message: string,
  errno: number,
  code: string,
): Error & { errno: number; code: string } {
  const err = Object.assign(new Error(message), { errno, code });
  Error.captureStackTrace(err, zlibError);
  return err;
}

// ---- validators ----

function validateNumberImpl(
  value: unknown,
  name: string,
  min?: number,
  max?: number,
): asserts value is number {
  if (typeof value !== 'number') throw errInvalidArgType(name, 'number', value);
  if (
    (min != null && value < min) ||
    (max != null && value > max) ||
    ((min != null || max != null) && Number.isNaN(value))
  ) {
    const range = `${min != null ? `>= ${min}` : ''}${min != null && max != null ? ' && ' : ''}${max != null ? `<= ${max}` : ''}`;
    throw errOutOfRange(name, range, value);
  }
}

/** True for a finite number, false for undefined or NaN; throws for anything else. */
function validateFiniteNumberImpl(n: unknown, name: string): n is number {
  if (n === undefined) return false;
  if (Number.isFinite(n)) return true;
  if (Number.isNaN(n)) return false;
  validateNumber(n, name);
  throw errOutOfRange(name, 'a finite number', n);
}

/** Returns `def` for undefined or NaN, else `n` if it is a number within [lower, upper]. */
function checkRangesOrGetDefaultImpl(
  n: unknown,
  name: string,
  lower: number,
  upper: number,
  def: number,
): number;
function checkRangesOrGetDefaultImpl(
  n: unknown,
  name: string,
  lower: number,
  upper: number,
  def?: number,
): number | undefined;
function checkRangesOrGetDefaultImpl(
  n: unknown,
  name: string,
  lower: number,
  upper: number,
  def?: number,
): number | undefined {
  if (!validateFiniteNumber(n, name)) return def;
  if (n < lower || n > upper) throw errOutOfRange(name, `>= ${lower} and <= ${upper}`, n);
  return n;
}

function validateFunctionImpl(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw errInvalidArgType(name, 'Function', value);
}

function validateUint32Impl(value: unknown, name: string, positive = false): asserts value is number {
  if (typeof value !== 'number') throw errInvalidArgType(name, 'number', value);
  if (!Number.isInteger(value)) throw errOutOfRange(name, 'an integer', value);
  const min = positive ? 1 : 0;
  const max = 4_294_967_295;
  if (value < min || value > max) throw errOutOfRange(name, `>= ${min} && <= ${max}`, value);
}

export const validateNumber: typeof validateNumberImpl = hideStackFrames(validateNumberImpl);
export const validateFiniteNumber: typeof validateFiniteNumberImpl =
  hideStackFrames(validateFiniteNumberImpl);
export const checkRangesOrGetDefault: typeof checkRangesOrGetDefaultImpl =
  hideStackFrames(checkRangesOrGetDefaultImpl);
export const validateFunction: typeof validateFunctionImpl = hideStackFrames(validateFunctionImpl);
export const validateUint32: typeof validateUint32Impl = hideStackFrames(validateUint32Impl);
