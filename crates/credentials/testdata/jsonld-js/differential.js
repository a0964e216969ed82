// Regenerates the expected canonical forms with jsonld.js in safe mode, the reference
// implementation the crate is checked against:
//   npm install jsonld@9.0.0 rdf-canonize@5 && node differential.js
// It writes NAME.nq beside each NAME.json, and prints the error safe mode raises for rejected/*.
const fs = require('fs');
const path = require('path');
const jsonld = require('jsonld');

const contexts = path.join(__dirname, '../../contexts');
const bundled = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2': 'credentials-examples-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-context-3.0.3.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json': 'ob-context-3.0.2.json',
  'https://w3id.org/citizenship/v4rc1': 'citizenship-v4rc1.jsonld',
};
const documentLoader = async (url) => {
  if (!bundled[url]) throw new Error(`not bundled: ${url}`);
  const document = JSON.parse(fs.readFileSync(path.join(contexts, bundled[url]), 'utf8'));
  return { contextUrl: null, documentUrl: url, document };
};
const canonize = (doc) => jsonld.canonize(doc, {
  algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true,
});

(async () => {
  for (const dir of [__dirname, path.join(__dirname, 'rejected')]) {
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const doc = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      try {
        fs.writeFileSync(path.join(dir, file.replace(/\.json$/, '.nq')), await canonize(doc));
      } catch (e) {
        const event = e.details && e.details.event;
        console.log(file, event ? `${event.code} ${JSON.stringify(event.details)}` : e.message);
      }
    }
  }
})();
