// Child process for the file-lock tests (spawned with `node --import tsx`):
//   <lockPath> <holdMs>   take the lock, print "got <epoch ms>", hold it, print "released <ms>"
import { withFileLock } from '../src/platform/file-lock.js';

const [path, hold] = process.argv.slice(2);
if (path === undefined || hold === undefined) throw new Error('usage: lock-child <path> <holdMs>');
await withFileLock(path, async () => {
  process.stdout.write(`got ${Date.now()}\n`);
  await new Promise((resolve) => setTimeout(resolve, Number(hold)));
  process.stdout.write(`released ${Date.now()}\n`);
});
