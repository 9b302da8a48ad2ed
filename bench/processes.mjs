// The processes of `npm run bench`, shared by its export cases (run.mjs) and
// its migrate case (migrate-run.mjs): the emulator's child process, the
// environment every child gets, the machine's description, and the wait for
// a quiet machine before a measured run. See run.mjs for why each measured
// run has a process of its own.
import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);

export function machineInfo() {
  const git = (...args) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let commit;
  let dirty;
  try {
    commit = git('rev-parse', 'HEAD');
    dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  } catch {
    // Not a git checkout, or no git: the results say so.
  }
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    totalMemBytes: os.totalmem(),
    git: commit ? { commit, dirty } : undefined,
  };
}

/** The environment of every child: dummy credentials (the emulator checks no signatures), nothing else changed. */
export const CHILD_ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/**
 * The emulator's child process (bench/emulator-process.mjs with `args`), and
 * a request/answer helper over its IPC channel.
 */
export async function startEmulatorProcess(args) {
  // The emulator holds the events and the rendered results in memory (a few
  // GB for a million distinct rows), more than Node's default heap limit.
  const heapMiB = Math.floor((os.totalmem() * 0.75) / 2 ** 20);
  const child = fork(path.join(HERE, 'emulator-process.mjs'), args, {
    stdio: ['ignore', 2, 2, 'ipc'],
    execArgv: [`--max-old-space-size=${heapMiB}`, '--expose-gc'],
    env: CHILD_ENV,
  });
  const answer = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type !== type) return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(message);
      };
      const onExit = (code, signal) => reject(new Error(`the emulator process exited (${signal ?? code}) before answering ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await answer('ready');
  return {
    ...ready,
    request: async (message) => {
      const reply = answer(message.type);
      child.send(message);
      return reply;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'close' });
      await exited;
    },
  };
}

/** CPU time all processes on the machine have used, in ms (os.cpus(), summed over CPUs). */
export function machineBusyMs() {
  return os.cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);
}

/**
 * Waits until the machine has been nearly idle (under 15% of one CPU used,
 * by anything) for one second, or until `maxWaitMs` has passed: on a shared
 * machine a test run next door would otherwise take a core from the case.
 * The emulator and this process are idle between cases.
 */
export async function waitForQuiet(maxWaitMs) {
  const deadline = Date.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const before = machineBusyMs();
    await sleep(1000);
    const busy = machineBusyMs() - before;
    if (busy < 150) return;
    if (Date.now() >= deadline) return void process.stderr.write(`bench: the machine is still busy (${busy} ms of CPU per second); running anyway\n`);
    if (!told) process.stderr.write(`bench: waiting up to ${maxWaitMs / 1000} s for other processes to leave the CPUs idle ...\n`);
    told = true;
  }
}
