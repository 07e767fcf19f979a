/** Issue 10: filled in next. */
export {};
