// `npm start` will run the whole product offline (CDS Hooks service, SMART app, sandbox EHR).
// Until the sandbox exists it says so and exits non-zero rather than pretending to start.
console.error(`alk-ros1-cds: npm start is not available yet.

It will start, on one port (default 3000), the CDS Hooks service, the built SMART app and a local
sandbox EHR with sample patients. Available today:

  npm run serve   the CDS Hooks service in production mode (JWT required; see README)
  npm test        the test suite
  npm run bench   the benchmarks
`);
process.exit(1);
