export * from './client';
export * from './schema/index';
export { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, ne, or, sql, count } from 'drizzle-orm';
