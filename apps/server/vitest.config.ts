import { defineConfig } from 'vitest/config';
import { databaseSuite } from '../../vitest.shared';

export default defineConfig({ test: databaseSuite });
