// Baseline B's own dependencies (its package.json) are installed only when the benchmark runs
// it (`npm ci` in this folder), so `tsc -p .` types them as `any`.
declare module 'express';
declare module 'socket.io';
declare module 'socket.io-client';
declare module 'jsonwebtoken';
