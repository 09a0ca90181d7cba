/**
 * The user's call site, for error messages: the first stack frame outside mobilegrad itself.
 * Read from `new Error().stack` when an error is raised (at call time: ops check their inputs
 * synchronously), so the hot path pays nothing.
 */

/** Where this module lives: in a bundle, the bundle file; from source, the repository's src/ and kernels/. */
const libraryPrefixes: string[] = (() => {
  const here = frameFiles(new Error().stack ?? '')[0];
  if (!here) return [];
  const m = here.match(/^(.*)\/src\/ops\/call-site\.[cm]?[jt]s$/);
  return m ? [`${m[1]}/src/`, `${m[1]}/kernels/`] : [here];
})();

/** File paths of the frames of a V8 stack, with their `:line:column` stripped. */
function frameFiles(stack: string): string[] {
  return stack
    .split('\n')
    .map((l) => frameLocation(l))
    .filter((x): x is string => x !== null)
    .map((loc) => loc.replace(/:\d+:\d+$/, ''));
}

/** `path:line:col` of one stack line (`    at fn (path:1:2)` or `    at path:1:2`), or null. */
function frameLocation(line: string): string | null {
  const m = line.match(/^\s*at (?:.*? \()?(.+?:\d+:\d+)\)?\s*$/);
  if (!m) return null;
  return m[1]!.replace(/^file:\/\//, '');
}

function isLibrary(file: string): boolean {
  if (file.startsWith('node:') || file.includes('/node_modules/') || !file.includes('/')) return true;
  return libraryPrefixes.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));
}

/** `path:line:col` of the innermost caller outside mobilegrad, or null if there is none. */
export function userCallSite(stack = new Error().stack ?? ''): string | null {
  for (const line of stack.split('\n')) {
    const loc = frameLocation(line);
    if (loc && !isLibrary(loc.replace(/:\d+:\d+$/, ''))) return loc;
  }
  return null;
}
