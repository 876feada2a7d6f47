// File-system helpers: whole-folder replacement for outputs that readers must see complete or not at all.
import { existsSync, renameSync, rmSync } from 'node:fs';

/**
 * Moves the finished folder `src` to `dest`, replacing any previous `dest`. A folder cannot be renamed over a
 * non-empty one, so the previous `dest` is first renamed to `<dest>.old` (where a reader may look for it after a
 * crash between the two renames), then deleted. If the second rename fails the previous `dest` is put back.
 */
export function replaceDir(src: string, dest: string): void {
  const old = `${dest}.old`;
  rmSync(old, { recursive: true, force: true });
  const hadOld = existsSync(dest);
  if (hadOld) renameSync(dest, old);
  try {
    renameSync(src, dest);
  } catch (err) {
    if (hadOld) renameSync(old, dest);
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
}
