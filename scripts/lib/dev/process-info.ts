import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What the operating system says about other processes, for messages that name them: from /proc
 * on Linux, from `ps` elsewhere. Every answer may be undefined: a process can end while we look,
 * and another user's may be hidden from us.
 */

const hasProc = existsSync('/proc/self/stat');

/** The command line of a process, as one line (arguments joined by spaces), if it can be read. */
export function commandLineOf(pid: number): string | undefined {
  try {
    if (hasProc) {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const line = raw.split('\0').filter(Boolean).join(' ');
      return line || undefined;
    }
    const line = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return line || undefined;
  } catch {
    return undefined;
  }
}

/** The parent process id of a process, if it can be read. */
export function parentOf(pid: number): number | undefined {
  try {
    if (hasProc) {
      // The command name (2nd field) may hold spaces and parentheses: read after its last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return Number.isInteger(ppid) ? ppid : undefined;
    }
    const ppid = Number(
      execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "pid 123 (`node scripts/dev.ts`)", or "pid 123" when its command line cannot be read. */
export function describeProcess(pid: number): string {
  const command = commandLineOf(pid);
  return command ? `pid ${pid} (\`${shorten(command)}\`)` : `pid ${pid}`;
}

function shorten(command: string): string {
  return command.length > 160 ? `${command.slice(0, 157)}...` : command;
}

/** The `npm run dev` (scripts/dev.ts, or `gateway dev`) that a process runs under, if any: its pid. */
export function devStackAbove(pid: number): number | undefined {
  let current = parentOf(pid);
  for (let depth = 0; current && current > 1 && depth < 4; depth++) {
    const command = commandLineOf(current) ?? '';
    if (/scripts\/dev\.ts\b|scripts\/gateway\.ts dev\b|gateway(\.js)? dev\b/.test(command)) return current;
    current = parentOf(current);
  }
  return undefined;
}

/**
 * The process listening on a loopback TCP port, if this machine says: Linux maps the socket's
 * inode in /proc/net/tcp to the process holding it; elsewhere `lsof` answers when installed.
 */
export function listenerOn(port: number): number | undefined {
  try {
    if (hasProc) return linuxListenerOn(port);
    const out = execFileSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-t'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const pid = Number(out.split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function linuxListenerOn(port: number): number | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      // local_address is HOST:PORT in hex; state 0A is LISTEN; the inode is the 10th field.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9] && fields[9] !== '0')
        inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // ended, or another user's
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return Number(entry);
      } catch {
        // closed while we looked
      }
    }
  }
  return undefined;
}
