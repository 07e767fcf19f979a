/**
 * Test settings shared by the packages whose suites open databases and servers: files run
 * one at a time (each opens SQLite and Postgres databases; the machine has 2 cores), with
 * room for Postgres database creation and migrations in hooks.
 */
export const databaseSuite = {
  include: ['test/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  fileParallelism: false,
};
