// Sanitizer builds and fuzzing of the native core, so a native crash, data
// race or memory error fails the suite instead of shipping:
//
//   ring_stress   native/test/ring_stress.cc under ThreadSanitizer (g++)
//   device_fuzz   native/test/device_fuzz.cc's standalone driver under
//                 AddressSanitizer + UndefinedBehaviorSanitizer (g++)
//   libFuzzer     the same target under clang's libFuzzer, for a few seconds
//   addon         the real addon built with ASan+UBSan, driven from JS
//                 (native/test/asan-addon.sh)
//
// Each step is skipped, with the reason printed, when its compiler or
// sanitizer runtime is missing. Builds go to a temporary directory. Knobs:
// UACCEL_FUZZ_SEED (driver seed, default 1), UACCEL_FUZZ_SECONDS (driver and
// libFuzzer time, default 6), UACCEL_KEEP_SANITIZER_BUILD=1 (keep the dir).
import { spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const nativeDir = join(root, 'native');
const testDir = join(nativeDir, 'test');
// Every native source the addon builds except the N-API layer: the test
// programs drive the core directly. Read from binding.gyp (gyp allows
// comments, so not as JSON) so a new source cannot be left out of these builds.
const core = [...readFileSync(join(root, 'binding.gyp'), 'utf8').matchAll(/"(native\/[^"]+\.cc)"/g)]
  .map((m) => m[1])
  .filter((f) => !f.startsWith('native/addon/'))
  .map((f) => join(root, f));

const fuzzSeed = process.env.UACCEL_FUZZ_SEED ?? '1';
const fuzzSeconds = Number(process.env.UACCEL_FUZZ_SECONDS ?? '6');

// Anything a sanitizer or a harness prints when it found a problem.
const REPORT =
  /WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ERROR: libFuzzer|INVARIANT VIOLATED|FAIL:|SUMMARY: \w+Sanitizer/;

const linux = process.platform === 'linux';
const work = mkdtempSync(join(tmpdir(), 'uaccel-sanitizers-'));

afterAll(() => {
  if (process.env.UACCEL_KEEP_SANITIZER_BUILD === '1') {
    console.log(`[sanitizers] build directory kept: ${work}`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? work,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

// Fails with the program's output on a non-zero exit or any sanitizer report.
function expectClean(what: string, r: Result): void {
  const output = `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
  expect(r.signal, output).toBeNull();
  expect(r.code, output).toBe(0);
  expect(REPORT.test(r.stderr) || REPORT.test(r.stdout), output).toBe(false);
}

function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${cmd}"`], { stdio: 'ignore' }).status === 0;
}

// Compiles (and runs) a tiny program with the given flags: '' when that
// works, otherwise why not.
function probe(
  compiler: string | null,
  flags: string[],
  source: string,
  runArgs: string[] | null = [],
): string {
  if (!linux) return `not Linux (${process.platform})`;
  if (compiler === null || !commandExists(compiler)) return `${compiler ?? 'compiler'} not found`;
  const dir = join(work, 'probe');
  mkdirSync(dir, { recursive: true });
  const name = `p${Math.random().toString(36).slice(2, 8)}`;
  const src = join(dir, `${name}.cc`);
  writeFileSync(src, source);
  const exe = join(dir, name);
  const cc = spawnSync(compiler, [src, ...flags, '-o', exe], { encoding: 'utf8', timeout: 60_000 });
  if (cc.status !== 0) {
    return `${compiler} ${flags.join(' ')} does not build: ${(cc.stderr || cc.error?.message || '').split('\n')[0]}`;
  }
  if (runArgs === null) return '';
  const ran = spawnSync(exe, runArgs, { encoding: 'utf8', timeout: 60_000 });
  if (ran.status !== 0) {
    return `a ${flags.join(' ')} program does not run here: ${(ran.stderr || '').trim().split('\n')[0]}`;
  }
  return '';
}

function findClang(): string | null {
  for (const c of ['clang++', ...[19, 18, 17, 16, 15, 14].map((v) => `clang++-${v}`)]) {
    if (commandExists(c)) return c;
  }
  return null;
}

const ZLIB_PROBE = "#include <zlib.h>\nint main() { return zlibVersion()[0] == '1' ? 0 : 1; }\n";
const THREAD_PROBE =
  '#include <thread>\nint main() { int x = 0; std::thread t([&] { x = 1; }); t.join(); return x == 1 ? 0 : 1; }\n';
const FUZZ_PROBE =
  'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n';

const zlibMissing = probe('g++', ['-lz'], ZLIB_PROBE).replace(
  /does not build.*/,
  'cannot build against zlib (zlib1g-dev)',
);
const tsanMissing = zlibMissing || probe('g++', ['-fsanitize=thread', '-pthread'], THREAD_PROBE);
const asanMissing = zlibMissing || probe('g++', ['-fsanitize=address,undefined', '-pthread'], THREAD_PROBE);
const clang = findClang();
const fuzzerMissing =
  zlibMissing ||
  (clang === null
    ? 'clang++ not found (apt-get install clang libclang-rt-14-dev)'
    : probe(clang, ['-fsanitize=fuzzer,address,undefined'], FUZZ_PROBE, ['-runs=1']));
const libasan = linux
  ? (spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim() ?? '')
  : '';
const addonMissing = !linux
  ? `not Linux (${process.platform})`
  : !libasan.startsWith('/') || !existsSync(libasan)
    ? 'libasan not found (gcc -print-file-name=libasan.so)'
    : !existsSync(join(root, 'node_modules', '.bin', 'node-gyp'))
      ? 'node-gyp not installed'
      : asanMissing;

for (const [step, why] of [
  ['ring_stress under TSan', tsanMissing],
  ['device_fuzz under ASan+UBSan', asanMissing],
  ['libFuzzer run', fuzzerMissing],
  ['ASan+UBSan addon workload', addonMissing],
] as const) {
  if (why) console.warn(`[sanitizers] skipping ${step}: ${why}`);
}

const common = [
  '-std=c++17',
  '-g',
  '-O1',
  '-fno-omit-frame-pointer',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-pthread',
  // As binding.gyp builds the addon: ISA-L when its headers are installed.
  `-DUACCEL_HAVE_ISAL=${existsSync('/usr/include/isa-l/igzip_lib.h') ? 1 : 0}`,
];
// Libraries the core links (binding.gyp): libdeflate statically, dl for ISA-L.
const coreLibs = ['-l:libdeflate.a', '-ldl'];

// Builds start together (on first use) so compiling overlaps earlier runs.
const builds = new Map<string, Promise<Result>>();
function build(name: string, compiler: string, flags: string[], main: string): Promise<Result> {
  let p = builds.get(name);
  if (!p) {
    p = run(
      compiler,
      [...common, ...flags, join(testDir, main), ...core, ...coreLibs, '-lz', '-o', join(work, name)],
      {
        timeoutMs: 180_000,
      },
    );
    builds.set(name, p);
  }
  return p;
}
const ringBuild = () => build('ring_stress', 'g++', ['-fsanitize=thread'], 'ring_stress.cc');
const fuzzBuild = () =>
  build(
    'device_fuzz',
    'g++',
    ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'],
    'device_fuzz.cc',
  );
const libFuzzerBuild = () =>
  build(
    'device_fuzz_libfuzzer',
    clang ?? 'clang++',
    ['-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=all', '-DUACCEL_LIBFUZZER'],
    'device_fuzz.cc',
  );

async function built(what: string, p: Promise<Result>): Promise<number> {
  const r = await p;
  expectClean(`building ${what}`, r);
  return r.ms;
}

describe.skipIf(!linux)('native core under sanitizers', () => {
  // Start the standalone builds at once; each test waits for its own.
  if (!tsanMissing) void ringBuild().catch(() => {});
  if (!asanMissing) void fuzzBuild().catch(() => {});
  if (!fuzzerMissing) void libFuzzerBuild().catch(() => {});

  it.skipIf(!!tsanMissing)(
    'the ring survives a multi-threaded stress run under ThreadSanitizer',
    async () => {
      const buildMs = await built('ring_stress (TSan)', ringBuild());
      const r = await run(join(work, 'ring_stress'), ['-n', '20000', '-t', '90', '-w', '10000'], {
        env: { TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1' },
        timeoutMs: 120_000,
      });
      expectClean('ring_stress', r);
      expect(r.stdout).toContain('all checks passed');
      console.log(`[sanitizers] ring_stress (TSan): build ${buildMs} ms, run ${r.ms} ms`);
    },
    240_000,
  );

  it.skipIf(!!asanMissing)(
    'the software device keeps its contract on fuzzed descriptors under ASan+UBSan',
    async () => {
      const buildMs = await built('device_fuzz (ASan+UBSan)', fuzzBuild());
      const r = await run(
        join(work, 'device_fuzz'),
        ['-n', '1000000', '-t', String(fuzzSeconds), '-s', fuzzSeed],
        {
          env: {
            ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1:abort_on_error=0',
            UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
          },
          timeoutMs: 120_000 + fuzzSeconds * 1000,
        },
      );
      expectClean(`device_fuzz -s ${fuzzSeed}`, r);
      expect(r.stdout).toMatch(/inputs \(\d+ bytes\) passed/);
      console.log(
        `[sanitizers] device_fuzz (ASan+UBSan): build ${buildMs} ms, run ${r.ms} ms\n${r.stdout.trim()}`,
      );
    },
    240_000,
  );

  it.skipIf(!!fuzzerMissing)(
    'libFuzzer finds nothing in a short run',
    async () => {
      const buildMs = await built('device_fuzz (libFuzzer)', libFuzzerBuild());
      const corpus = join(work, 'corpus');
      mkdirSync(corpus, { recursive: true });
      const r = await run(
        join(work, 'device_fuzz_libfuzzer'),
        [
          `-max_total_time=${fuzzSeconds}`,
          '-max_len=4096',
          '-len_control=0',
          '-timeout=30',
          '-seed=1',
          '-print_final_stats=1',
          `-artifact_prefix=${work}/`,
          corpus,
        ],
        {
          env: {
            ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1',
            UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
          },
          timeoutMs: 120_000 + fuzzSeconds * 1000,
        },
      );
      expectClean('libFuzzer', r);
      const done = r.stderr.match(/Done (\d+) runs/);
      expect(done, tail(r.stderr)).not.toBeNull();
      console.log(`[sanitizers] libFuzzer: build ${buildMs} ms, ${done![1]} runs in ${r.ms} ms`);
    },
    240_000,
  );

  it.skipIf(!!addonMissing)(
    'the addon built with ASan+UBSan runs a JS workload cleanly (both memory modes, destroy, errors, workers)',
    async (ctx) => {
      const r = await run('bash', [join(testDir, 'asan-addon.sh')], {
        cwd: root,
        env: { UACCEL_ASAN_DIR: join(work, 'addon') },
        timeoutMs: 300_000,
      });
      if (r.code === 77) {
        console.warn(`[sanitizers] ${r.stderr.trim()}`);
        ctx.skip();
      }
      expectClean('asan-addon.sh', r);
      expect(r.stdout).toContain('asan workload: ok');
      console.log(`[sanitizers] ${r.stdout.trim().split('\n').slice(-4).join('\n[sanitizers] ')}`);
    },
    320_000,
  );
});
