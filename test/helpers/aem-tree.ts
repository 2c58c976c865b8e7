import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds a synthetic `crx-quickstart` with Felix bundle folders: the crypto support bundle, the
 * crypto file bundle and a few others, each with a `bundle.info` (id, location, state, start
 * level, modification time) as Felix writes it.
 */
export function buildCrxQuickstart(
  root: string,
  options: {
    storage?: string;
    master?: Buffer;
    hmac?: Buffer;
    supportId?: number;
    fileId?: number;
  } = {},
) {
  const felix = join(root, 'crx-quickstart', 'launchpad', 'felix');
  const bundle = (id: number, location: string) => {
    const dir = join(felix, `bundle${id}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'bundle.info'), `${id}\n${location}\n32\n20\n1700000000000\n0\n`);
    return dir;
  };
  bundle(0, 'System Bundle');
  bundle(5, 'launchpad:resources/install/0/org.apache.sling.commons.log-5.1.0.jar');
  const supportId = options.supportId ?? 236;
  const fileId = options.fileId ?? 237;
  const support = bundle(
    supportId,
    'launchpad:resources/install/0/com.adobe.granite.crypto-3.0.6.jar',
  );
  const file = bundle(
    fileId,
    'launchpad:resources/install/15/com.adobe.granite.crypto.file-1.0.4.jar',
  );
  bundle(300, 'launchpad:resources/install/0/com.adobe.granite.crypto.jcr-1.0.2.jar');
  if (options.storage !== undefined)
    writeFileSync(join(support, 'data', 'storage'), options.storage);
  if (options.master) writeFileSync(join(file, 'data', 'master'), options.master);
  if (options.hmac) writeFileSync(join(file, 'data', 'hmac'), options.hmac);
  return {
    crx: join(root, 'crx-quickstart'),
    supportData: join(support, 'data'),
    fileData: join(file, 'data'),
  };
}
