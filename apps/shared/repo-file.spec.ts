import { join } from 'node:path';
import { repoFile } from './repo-file';

describe('repoFile', () => {
  it('finds a repository file from any folder below the root (sources or dist)', () => {
    const root = join(__dirname, '../..');
    expect(repoFile('apps/proto/auth.proto')).toBe(join(root, 'apps/proto/auth.proto'));
    expect(repoFile('apps/proto/auth.proto', join(root, 'dist/apps/x/apps/x/src'))).toBe(
      join(root, 'apps/proto/auth.proto'),
    );
  });

  it('names the file when it is nowhere above', () => {
    expect(() => repoFile('apps/proto/missing.proto')).toThrow(
      /apps\/proto\/missing\.proto not found/,
    );
  });
});
