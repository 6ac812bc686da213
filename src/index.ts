import { createApp } from './app.ts';
import type { Bindings } from './config.ts';

// Built once per isolate, so routing tables are compiled once and shared by every request.
const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
