/**
 * A real `redis-server` of our own for tests: in memory only, on 127.0.0.1.
 * Find the executable with `service('redis-server')` from `services.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** Picks the port for each attempt. @default a port the kernel just handed out on 127.0.0.1 */
  choosePort?: () => Promise<number>;
  /** How many ports to try when redis-server finds its port taken. @default 5 */
  attempts?: number;
}

/** A port that was free on 127.0.0.1 a moment ago. Someone may take it before you bind it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

type Launch = { kind: 'ready'; child: ChildProcess } | { kind: 'port-taken'; output: string };

function launch(binary: string, port: number): Promise<Launch> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port} within 10 s:\n${output}`));
    }, 10_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve({ kind: 'ready', child });
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${binary}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (output.includes('Address already in use')) resolve({ kind: 'port-taken', output });
      else reject(new Error(`redis-server exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
}

/**
 * Start redis-server. A probed free port can be taken between the probe and
 * redis-server's bind (redis cannot bind port 0 and report it), so when
 * redis-server exits with "Address already in use" we try another port.
 */
export async function startRedisServer(binary: string, options: RedisServerOptions = {}): Promise<RedisServer> {
  const choosePort = options.choosePort ?? freePort;
  const attempts = options.attempts ?? 5;
  let last = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await choosePort();
    const launched = await launch(binary, port);
    if (launched.kind === 'port-taken') {
      last = launched.output;
      continue;
    }
    const { child } = launched;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      process: child,
      async close() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw new Error(`redis-server found its port taken ${attempts} times in a row:\n${last}`);
}
