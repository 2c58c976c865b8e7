import { parentPath } from '../../repository/path.js';

/** The JSON status body Sling's POST servlet answers with. */
export function slingStatus(
  status: 200 | 201,
  path: string,
  title: string,
  changes: readonly { type: string; argument: string }[] = [],
) {
  return {
    changes,
    path,
    location: path,
    parentLocation: parentPath(path),
    'status.code': status,
    'status.message': status === 201 ? 'Created' : 'OK',
    title,
  };
}
