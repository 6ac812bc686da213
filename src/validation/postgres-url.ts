/**
 * A connection string the Neon driver and the operator commands can use: postgres:// or
 * postgresql://, with a host. The Worker's configuration and the scripts check it the same way.
 */
export function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}
