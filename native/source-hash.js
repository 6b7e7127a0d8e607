'use strict';
// Prints a digest of every file the addon is built from. The build embeds it
// (binding.gyp) and a test recomputes it, so a prebuild that no longer matches
// native/ fails the test suite instead of shipping stale code.
const { createHash } = require('crypto');
const { readdirSync, readFileSync } = require('fs');
const { join, relative } = require('path');

const packageRoot = join(__dirname, '..');

function walk(dir, out, skip) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(full)) walk(full, out, skip);
    } else if (/\.(c|cc|h|js)$/.test(entry.name)) out.push(full);
  }
  return out;
}

function sourceHash(root = packageRoot) {
  // native/test/ holds standalone sanitizer and fuzz programs that the addon
  // is not built from: editing them must not make the prebuild stale.
  const skip = [join(root, 'native', 'test')];
  const files = walk(join(root, 'native'), [join(root, 'binding.gyp')], skip).sort();
  const hash = createHash('sha256');
  for (const file of files) {
    // Line endings are normalised so a checkout on another OS hashes the same.
    const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
    hash.update(relative(root, file).split('\\').join('/')).update('\0').update(text).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

module.exports = { sourceHash };
if (require.main === module) process.stdout.write(sourceHash());
