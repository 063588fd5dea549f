// `npm test` says which Node it runs under: the project pins Node 24 through the `node` package.
const [major] = process.versions.node.split('.').map(Number);
console.log(`Qiwei tests run under Node ${process.version} (${process.execPath})`);
if (major !== 24) {
  console.error(
    'Expected Node 24.x: run through npm scripts so node_modules/.bin/node (the pinned `node` package) is used.',
  );
  process.exit(1);
}
