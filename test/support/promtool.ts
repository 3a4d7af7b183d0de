import { execFileSync } from 'node:child_process';

/** Runs `promtool check metrics` on an exposition; returns its findings ('' when clean). */
export function promtoolCheck(exposition: string): string {
  try {
    execFileSync('promtool', ['check', 'metrics'], {
      input: exposition,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return '';
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

/** The metric families of an exposition whose names start with one of `prefixes`. */
export function families(exposition: string, prefixes: string[]): string {
  return exposition
    .split(/(?=^# HELP )/m)
    .filter((family) => prefixes.some((p) => family.startsWith(`# HELP ${p}`)))
    .join('');
}
