import { SingleBar } from 'cli-progress';
import type { CommandIo } from './io.js';

/** A progress bar on a terminal (to stderr), a line per tenth of the work otherwise. */
export function progress(io: CommandIo, label: string) {
  if (io.interactive && process.stderr.isTTY) {
    const bar = new SingleBar({
      format: ` ${label} [{bar}] {value}/{total}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
    });
    let started = false;
    return {
      update(done: number, total: number) {
        if (!started) bar.start(total, 0);
        started = true;
        bar.setTotal(total);
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let last = -1;
  return {
    update(done: number, total: number) {
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth !== last) io.say(`${label}: ${done}/${total}`);
      last = tenth;
    },
    stop: () => {},
  };
}
