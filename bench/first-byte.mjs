// Time to the first byte written: when the first data byte of a case's
// output reaches its destination, measured inside the case process.
//
// Method: an inotify watch (fs.watch) on the case's output directory, which
// is empty when the case starts. ctlake's file destination writes to a
// temporary file beside the target (`.NAME.ctlake-PID-TAG.tmp`) and renames
// it on commit, so the watch sees the temporary file's creation and then its
// modifications; on each event the named file is stat'ed, and the first time
// any file there has a size above 0 is the first byte. This sees what a
// reader of the directory would see (the write(2) having reached the file),
// not when the exporter queued bytes in a stream, and it costs the case one
// stat per event until the first byte and nothing after (the watch is closed
// then). The time is relative to `started`, the same origin as the case's
// wall time. A case that writes nothing (the floors) reports null.
import { statSync, watch } from 'node:fs';
import path from 'node:path';

/** Starts watching `dir`; `stop()` returns the ms from `started` to the first byte, or null. */
export function watchFirstByte(dir, started) {
  let firstByteMs = null;
  const seen = () => {
    firstByteMs = performance.now() - started;
    watcher.close();
  };
  const watcher = watch(dir, { persistent: false }, (_event, name) => {
    if (firstByteMs !== null || !name) return;
    try {
      if (statSync(path.join(dir, name)).size > 0) seen();
    } catch {
      // Renamed or removed between the event and the stat: the next event tells.
    }
  });
  return {
    stop() {
      if (firstByteMs === null) watcher.close();
      return firstByteMs === null ? null : Math.round(firstByteMs);
    },
  };
}
