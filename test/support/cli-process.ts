import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, as a user runs it (npm test builds it first). */
export const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a shell command line without blocking this process's event loop (the
 * emulator serving it lives here). `$CTLAKE` in the line is the built CLI.
 */
export function runShell(line: string, env: Record<string, string>): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line], {
      env: { PATH: process.env.PATH ?? '', ...env, CTLAKE: `"${process.execPath}" "${BIN}"` },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Runs the built CLI with arguments (no shell quoting needed). */
export function runCli(args: string[], env: Record<string, string>): Promise<ProcessResult> {
  // Quoted twice: once for the shell that runs the line, once for the eval.
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const quoted = args.map((a) => quote(quote(a))).join(' ');
  return runShell(`eval "$CTLAKE" ${quoted}`, env);
}
