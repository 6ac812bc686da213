// The Drizzle schema: the database after every migration in migrations/ (see docs/migrations.md).
// The tables arrive with the historical migrations; until then the schema is empty.
export {};
