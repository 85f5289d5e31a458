// @ts-check
// CPU time of the driver (this Node process) and of its child processes (workerd started by
// Miniflare, or the peer Node server), read from /proc: on a 2-core machine both sides share
// the cores, so this tells which side a figure is bound by.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

function childrenTicks() {
  const parent = new Map();
  const ticks = new Map();
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(pid), Number(f[1]));
      ticks.set(Number(pid), Number(f[11]) + Number(f[12])); // utime + stime
    } catch {
      /* gone */
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p = parent.get(pid), hops = 0; p && hops < 10; p = parent.get(p), hops++) {
      if (p === process.pid) {
        sum += t;
        break;
      }
    }
  }
  return sum;
}

/** Busy time of the whole machine (every process), from the first line of /proc/stat. */
function machineTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal
    return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
  } catch {
    return 0;
  }
}

export function cpuSnapshot() {
  const u = process.cpuUsage();
  return {
    wall: performance.now(),
    driver: (u.user + u.system) / 1e6,
    server: childrenTicks() / TICKS,
    machine: machineTicks() / TICKS,
  };
}

/** Seconds of CPU per side between two snapshots, and as a share of the wall time. */
export function cpuSince(a) {
  const b = cpuSnapshot();
  const wall = (b.wall - a.wall) / 1000;
  const r = (x) => Math.round(x * 100) / 100;
  // Everything else on the machine (other users' builds and tests): a figure taken while this
  // is well above zero shared the cores with them.
  const other = Math.max(0, b.machine - a.machine - (b.driver - a.driver) - (b.server - a.server));
  return {
    otherCores: r(other / wall),
    wallSeconds: r(wall),
    driverSeconds: r(b.driver - a.driver),
    serverSeconds: r(b.server - a.server),
    driverCores: r((b.driver - a.driver) / wall),
    serverCores: r((b.server - a.server) / wall),
  };
}

/**
 * Waits (at most maxMs) until the rest of the machine is quiet: less than `threshold` cores
 * busy outside this process and its children over one second. Returns that load (cores).
 */
export async function waitQuiet({ maxMs = 30000, threshold = 0.25 } = {}) {
  const until = performance.now() + maxMs;
  let other = 0;
  do {
    const a = cpuSnapshot();
    await new Promise((r) => setTimeout(r, 1000));
    other = cpuSince(a).otherCores;
    if (other < threshold) break;
  } while (performance.now() < until);
  return other;
}
