import { type SqlStatement, stripComments } from './sql-statements.ts';

/** A statement that can destroy data already in the database, and why. */
export interface DataLossFinding {
  line: number;
  statement: string;
  reason: string;
}

/**
 * Finds statements that lose data: dropping tables, schemas or columns, truncating or deleting
 * rows, and changing a column's type (a conversion can truncate or refuse values, so every type
 * change counts). Dropping indexes, constraints, defaults and NOT NULL loses no data.
 */
export function findDataLoss(statements: SqlStatement[]): DataLossFinding[] {
  const findings: DataLossFinding[] = [];
  for (const statement of statements) {
    const text = stripComments(statement.text);
    for (const reason of reasonsToRefuse(text)) {
      findings.push({ line: statement.line, statement: abbreviate(text), reason });
    }
  }
  return findings;
}

function reasonsToRefuse(text: string): string[] {
  const drop = text.match(/^DROP\s+(TABLE|SCHEMA|DATABASE|MATERIALIZED\s+VIEW|SEQUENCE)\b/i);
  if (drop?.[1]) return [`drops a ${drop[1].toLowerCase().replace(/\s+/g, ' ')} and its data`];
  if (/^TRUNCATE\b/i.test(text)) return ['truncates a table'];
  if (/^DELETE\s+FROM\b/i.test(text)) return ['deletes rows'];
  const alter = text.match(/^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?\S+\s+([\s\S]*)$/i);
  if (!alter?.[1]) return [];
  const reasons: string[] = [];
  for (const action of splitTopLevel(alter[1])) {
    const dropped = action.match(/^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?("(?:[^"]|"")+"|\w+)/i);
    if (dropped?.[1] && !/^(CONSTRAINT|DEFAULT)$/i.test(dropped[1])) {
      reasons.push(`drops column ${dropped[1]} and its data`);
      continue;
    }
    const retyped = action.match(/^ALTER\s+(?:COLUMN\s+)?("(?:[^"]|"")+"|\w+)\s+(?:SET\s+DATA\s+)?TYPE\b/i);
    if (retyped?.[1]) reasons.push(`changes the type of column ${retyped[1]} (values may be truncated or refused)`);
  }
  return reasons;
}

/** ALTER TABLE actions are comma-separated; commas inside parentheses or quotes belong to one action. */
function splitTopLevel(actions: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const char of actions) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '(') {
      depth += 1;
    } else if (char === ')') {
      depth -= 1;
    } else if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function abbreviate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
