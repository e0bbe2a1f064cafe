// Child process for the store concurrency and crash tests (spawned with `node --import tsx`).
//   take  <storeDir> <keyFile> <shareSetId> <max>   take up to <max> presignatures; print the
//                                             ids taken and how many takes found none
//   write <storeDir> <keyFile> <shareSetId>   add batches of 50 presignatures and take some,
//                                             forever; print "committed <n>" after each batch
//   churn <storeDir> <keyFile> <shareSetId>   prepare statements by the thousand, leave them to
//                                             the garbage collector, then exit with the store
//                                             open (the teardown path of the SQLite binding)
// The passphrase comes from COSIGNER_TEST_PASSPHRASE.
import { isCosignerError } from '../src/errors.js';
import { openLocalKms } from '../src/kms/local-kms.js';
import { openStore } from '../src/store/cosigner-store.js';

const [mode, dir, keyFile, shareSetId, max] = process.argv.slice(2);
if (dir === undefined || keyFile === undefined || shareSetId === undefined)
  throw new Error('usage');
const kms = await openLocalKms({
  keyFile,
  passphrase: process.env['COSIGNER_TEST_PASSPHRASE'] ?? '',
});
const store = await openStore({ dir, kms, busyTimeoutMs: 30_000 });
process.stdout.write('ready\n');

if (mode === 'take') {
  // Wait for the parent's go, so that every racer starts at once.
  await new Promise<void>((resolve) =>
    process.stdin.once('data', () => {
      process.stdin.destroy();
      resolve();
    }),
  );
  const ids: string[] = [];
  let empty = 0;
  for (let i = 0; i < Number(max); i++) {
    try {
      ids.push(store.presignatures.takePresignature(shareSetId).id);
    } catch (e) {
      if (!isCosignerError(e, 'ERR_COSIGNER_NO_PRESIGNATURE')) throw e;
      empty += 1;
    }
  }
  store.close();
  process.stdout.write(JSON.stringify({ ids, empty }) + '\n');
} else if (mode === 'write') {
  const blob = new Uint8Array(2048).fill(0xa5);
  for (let n = 0; ; n++) {
    store.presignatures.addPresignatures(
      shareSetId,
      Array.from({ length: 50 }, (_, i) => ({
        id: `w-${process.pid}-${n}-${i}`,
        presignature: blob,
      })),
    );
    store.presignatures.takePresignature(shareSetId);
    process.stdout.write(`committed ${n}\n`);
  }
} else if (mode === 'churn') {
  for (let i = 0; i < 20_000; i++) {
    store.shareSets.getShareSet(shareSetId);
    if (i % 1000 === 0) store.presignatures.takePresignature(shareSetId);
  }
  process.stdout.write('churned\n');
  // Leave the event loop to idle for a moment so background GC tasks run, then exit.
  await new Promise((resolve) => setTimeout(resolve, 200));
  process.exitCode = 0;
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
