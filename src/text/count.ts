/**
 * A whole count as people read it in English, digits grouped by commas: 40000 → "40,000".
 *
 * Grouped here rather than by `toLocaleString('en')`: a process's first Intl formatting maps about
 * 5 MB of ICU locale data into its memory, for a comma.
 */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+$)/g, ',');
}
