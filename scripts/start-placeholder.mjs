// `npm start` will run the whole product offline (CDS Hooks service, SMART app, sandbox EHR).
// Until those parts exist it says so and exits non-zero rather than pretending to start.
console.error(`alk-ros1-cds: npm start is not available yet.

It will start, on one port (default 3000), the CDS Hooks service, the built SMART app and a local
sandbox EHR with sample patients. Today the clinical core and the FHIR extraction are in place:

  npm test        run the test suite
  npm run bench   run the benchmarks
`);
process.exit(1);
