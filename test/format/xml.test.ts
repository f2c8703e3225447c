import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Resource } from 'fhir/r4';
import { FhirError } from '../../src/fhir/outcome.ts';
import { parseFhirXml, toFhirXml } from '../../src/fhir/format/xml.ts';
import { sharedPath } from '../../src/paths.ts';

const ZIB_XML = sharedPath('fhir/nictiz-zib2020/examples');
const ZIB_JSON = sharedPath('fhir/hl7nl-zib2020-ig-build/package/example');
const IPS_JSON = sharedPath('fhir/ips/package/example');
const MP9_FIXTURES = sharedPath('fhir/nictiz-testscripts/r4/MP9-3-0-0-beta/MedMij/Test/_reference-medmij/fixtures');
const TESTSCRIPTS = sharedPath('fhir/nictiz-testscripts/r4');

function files(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .sort()
    .map((n) => join(dir, n));
}

function walk(dir: string, ext: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, ext, out);
    else if (n.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Runs `check` over all files and reports every failure at once (one test per corpus keeps output short). */
function forAll(paths: string[], check: (path: string) => void): void {
  assert.ok(paths.length > 0, 'corpus must not be empty');
  const failures: string[] = [];
  for (const p of paths) {
    try {
      check(p);
    } catch (e) {
      failures.push(`${p}: ${(e as Error).message.slice(0, 400)}`);
    }
  }
  assert.deepEqual(failures, []);
}

function xmlRoundTrip(xml: string): void {
  const json = parseFhirXml(xml);
  const xml2 = toFhirXml(json);
  assert.deepEqual(parseFhirXml(xml2), json);
  // Pretty printing must not change content either (the div is carried verbatim, whitespace included).
  assert.deepEqual(parseFhirXml(toFhirXml(json, { pretty: true })), json);
}

function jsonRoundTrip(path: string): void {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Resource;
  const back = parseFhirXml(toFhirXml(json));
  assert.deepEqual(back, json);
}

const expectBadRequest = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FhirError, `expected FhirError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.match(e.message, pattern);
    return true;
  });
};

const obs = (inner: string, attrs = ''): string => `<Observation xmlns="http://hl7.org/fhir"${attrs}>${inner}</Observation>`;

describe('corpora from ../shared', () => {
  it('parses every zib2020 XML example and round-trips XML → JSON → XML → JSON', () => {
    forAll(files(ZIB_XML, '.xml'), (p) => xmlRoundTrip(readFileSync(p, 'utf8')));
  });

  it('writes the zib2020 and MP9 XML back exactly as published (modulo whitespace, comments, char-ref spelling)', () => {
    // The published XML is in definition order, so this checks our element order and value formatting.
    const canon = (x: string) =>
      x
        .replace(/^\uFEFF/, '')
        .replace(/<\?xml[^>]*\?>/, '')
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/>\s+</g, '><')
        .replace(/&#10;/g, '&#xA;')
        .trim();
    forAll([...files(ZIB_XML, '.xml'), ...files(MP9_FIXTURES, '.xml')], (p) => {
      const src = readFileSync(p, 'utf8');
      assert.equal(canon(toFhirXml(parseFhirXml(src))), canon(src));
    });
  });

  it('round-trips every zib2020 IG JSON example JSON → XML → JSON', () => {
    forAll(files(ZIB_JSON, '.json'), jsonRoundTrip);
  });

  it('round-trips every IPS JSON example JSON → XML → JSON', () => {
    forAll(files(IPS_JSON, '.json'), jsonRoundTrip);
  });

  it('parses and round-trips the MP9 fixtures (placeholders are plain strings)', () => {
    const paths = files(MP9_FIXTURES, '.xml');
    forAll(paths, (p) => xmlRoundTrip(readFileSync(p, 'utf8')));
    const withPlaceholder = paths.map((p) => readFileSync(p, 'utf8')).find((x) => x.includes('value="${DATE'));
    assert.ok(withPlaceholder);
    assert.match(JSON.stringify(parseFhirXml(withPlaceholder)), /"\$\{DATE, T, D, [-+]\d+\}/);
  });

  it('parses every TestScript under nictiz-testscripts/r4 as a TestScript', () => {
    const scripts = walk(TESTSCRIPTS, '.xml').filter((p) => /<TestScript[\s>]/.test(readFileSync(p, 'utf8').slice(0, 2000)));
    assert.ok(scripts.length > 300, `found ${scripts.length} TestScripts`);
    forAll(scripts, (p) => {
      const r = parseFhirXml(readFileSync(p, 'utf8'));
      assert.equal(r.resourceType, 'TestScript');
      assert.deepEqual(parseFhirXml(toFhirXml(r)), r);
    });
  });

  it('parses all other XML under nictiz-testscripts/r4 (fixtures of all kinds)', () => {
    const others = walk(TESTSCRIPTS, '.xml').filter((p) => !p.startsWith(MP9_FIXTURES));
    forAll(others, (p) => {
      const r = parseFhirXml(readFileSync(p, 'utf8'));
      assert.equal(typeof r.resourceType, 'string');
    });
  });
});

describe('primitives', () => {
  it('types JSON values by FHIR type', () => {
    const r = parseFhirXml(
      obs(
        '<status value="final"/><code><text value="x"/></code>' +
          '<component><code><text value="a"/></code><valueBoolean value="true"/></component>' +
          '<component><code><text value="b"/></code><valueInteger value="-12"/></component>' +
          '<component><code><text value="c"/></code><valueQuantity><value value="4.50"/></valueQuantity></component>' +
          '<component><code><text value="d"/></code><valueString value="007"/></component>',
      ),
    ) as unknown as { component: Record<string, unknown>[] };
    assert.equal(r.component[0].valueBoolean, true);
    assert.equal(r.component[1].valueInteger, -12);
    assert.deepEqual(r.component[2].valueQuantity, { value: 4.5 });
    assert.equal(r.component[3].valueString, '007');
  });

  it('writes decimals in plain notation and rejects wrongly typed JSON values', () => {
    const q = (value: unknown) =>
      toFhirXml({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value } } as unknown as Resource);
    assert.match(q(1.5e-7), /<value value="0\.00000015"\/>/);
    assert.match(q(-2.5e21), /<value value="-2500000000000000000000"\/>/);
    assert.match(q(0.1), /<value value="0\.1"\/>/);
    expectBadRequest(() => q('1.5'), /Expected a number at Observation\.valueQuantity\.value/);
    expectBadRequest(
      () => toFhirXml({ resourceType: 'Patient', active: 'yes' } as unknown as Resource),
      /Expected a boolean at Patient\.active/,
    );
    expectBadRequest(() => toFhirXml({ resourceType: 'Patient', birthDate: 19800101 } as unknown as Resource), /Expected a string/);
  });

  it('keeps the lexical form of decimals read from XML while the number is unchanged', () => {
    const r = parseFhirXml(obs('<valueQuantity><value value="2.00"/></valueQuantity>')) as unknown as { valueQuantity: { value: number } };
    assert.deepEqual(r.valueQuantity, { value: 2 });
    assert.equal(JSON.stringify(r.valueQuantity), '{"value":2}');
    assert.match(toFhirXml(r as unknown as Resource), /<value value="2\.00"\/>/);
    r.valueQuantity.value = 3;
    assert.match(toFhirXml(r as unknown as Resource), /<value value="3"\/>/);
    // A copy made through JSON is a plain JSON object: shortest form.
    assert.match(toFhirXml(JSON.parse(JSON.stringify({ ...r, valueQuantity: { value: 2 } })) as Resource), /<value value="2"\/>/);
  });

  it('rejects malformed primitive values in XML', () => {
    expectBadRequest(() => parseFhirXml('<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>'), /Invalid boolean 'yes' at Patient\.active/);
    expectBadRequest(() => parseFhirXml(obs('<valueInteger value="1.5"/>')), /Invalid integer '1\.5' at Observation\.valueInteger/);
    expectBadRequest(() => parseFhirXml(obs('<valueQuantity><value value="abc"/></valueQuantity>')), /Invalid decimal/);
  });

  it('maps id and extensions on primitives to _name, with null placeholders in arrays', () => {
    const xml =
      '<Patient xmlns="http://hl7.org/fhir"><name><family value="Jansen"><extension url="http://e/prefix"><valueString value="van"/></extension></family>' +
      '<given value="Jan"/><given id="g2"><extension url="http://e/x"><valueCode value="BR"/></extension></given><given value="Piet"/></name>' +
      '<birthDate id="b"><extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason"><valueCode value="unknown"/></extension></birthDate></Patient>';
    const r = parseFhirXml(xml);
    assert.deepEqual(r, {
      resourceType: 'Patient',
      name: [
        {
          family: 'Jansen',
          _family: { extension: [{ url: 'http://e/prefix', valueString: 'van' }] },
          given: ['Jan', null, 'Piet'],
          _given: [null, { id: 'g2', extension: [{ url: 'http://e/x', valueCode: 'BR' }] }, null],
        },
      ],
      _birthDate: { id: 'b', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] },
    });
    const out = toFhirXml(r);
    assert.match(out, /<given value="Jan"\/><given id="g2"><extension url="http:\/\/e\/x"><valueCode value="BR"\/><\/extension><\/given><given value="Piet"\/>/);
    assert.deepEqual(parseFhirXml(out), r);
  });

  it('keeps whitespace and escapes special characters in values', () => {
    const value = 'a < b & "c" \'d\'\n\tline2\r';
    const r = { resourceType: 'Patient', id: 'x', name: [{ text: value }] } as Resource;
    const xml = toFhirXml(r);
    assert.match(xml, /<text value="a &lt; b &amp; &quot;c&quot; 'd'&#xA;&#x9;line2&#xD;"\/>/);
    assert.deepEqual(parseFhirXml(xml), r);
    expectBadRequest(() => toFhirXml({ resourceType: 'Patient', id: 'a\u0001' } as Resource), /U\+0001 cannot be represented in XML/);
  });

  it('normalises literal newlines in attribute values, as XML requires', () => {
    const r = parseFhirXml('<Patient xmlns="http://hl7.org/fhir"><id value="a\r\nb&#10;c"/></Patient>');
    assert.equal(r.id, 'a b\nc');
  });
});

describe('structure', () => {
  it('writes elements in definition order regardless of JSON key order', () => {
    const xml = toFhirXml({
      valueString: 'v',
      code: { text: 't', coding: [{ code: 'c', system: 's' }] },
      status: 'final',
      id: 'o1',
      extension: [{ valueBoolean: true, url: 'http://e' }],
      resourceType: 'Observation',
    } as unknown as Resource);
    assert.equal(
      xml,
      '<Observation xmlns="http://hl7.org/fhir"><id value="o1"/><extension url="http://e"><valueBoolean value="true"/></extension>' +
        '<status value="final"/><code><coding><system value="s"/><code value="c"/></coding><text value="t"/></code><valueString value="v"/></Observation>',
    );
  });

  it('handles contained, Bundle entry resources, response outcomes and Parameters resources', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      link: [{ relation: 'self', url: 'http://x/Bundle' }],
      entry: [
        {
          link: [{ relation: 'alternate', url: 'http://y' }],
          resource: {
            resourceType: 'Patient',
            id: 'p',
            contained: [{ resourceType: 'Organization', id: 'o', name: 'Org' }],
            managingOrganization: { reference: '#o' },
          },
          response: {
            status: '201 Created',
            outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] },
          },
        },
        {
          resource: {
            resourceType: 'Parameters',
            parameter: [{ name: 'r', resource: { resourceType: 'Basic', code: { text: 'b' } } }, { name: 'n', part: [{ name: 'x', valueInteger: 1 }] }],
          },
        },
      ],
    } as Resource;
    const xml = toFhirXml(bundle, { pretty: true });
    assert.match(xml, /<resource>\n\s+<Patient>/);
    assert.match(xml, /<contained>\n\s+<Organization>/);
    assert.match(xml, /<outcome>\n\s+<OperationOutcome>/);
    assert.deepEqual(parseFhirXml(xml), bundle);
    expectBadRequest(
      () => parseFhirXml('<Bundle xmlns="http://hl7.org/fhir"><type value="batch"/><entry><resource><Patient/><Patient/></resource></entry></Bundle>'),
      /Bundle\.entry\.resource must contain exactly one resource/,
    );
    expectBadRequest(
      () => toFhirXml({ ...bundle, entry: [{ response: { status: '200', outcome: { resourceType: 'Patient' } } }] } as Resource),
      /must be a OperationOutcome/,
    );
  });

  it('resolves contentReference elements (Questionnaire.item.item)', () => {
    const q = {
      resourceType: 'Questionnaire',
      status: 'draft',
      item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'string', item: [{ linkId: '1.1.1', type: 'display', text: 'deep' }] }] }],
    } as Resource;
    const xml = toFhirXml(q);
    assert.match(xml, /<item><linkId value="1\.1"\/><type value="string"\/><item><linkId value="1\.1\.1"\/><text value="deep"\/><type value="display"\/><\/item><\/item>/);
    assert.deepEqual(parseFhirXml(xml), q);
  });

  it('makes single vs array from cardinality', () => {
    const r = parseFhirXml(obs('<status value="final"/><code><text value="x"/></code><category><text value="c"/></category>')) as unknown as Record<string, unknown>;
    assert.ok(Array.isArray(r.category));
    assert.ok(!Array.isArray(r.code));
    expectBadRequest(() => parseFhirXml(obs('<status value="final"/><status value="final"/>')), /Observation\.status occurs more than once/);
    expectBadRequest(() => toFhirXml({ resourceType: 'Observation', category: { text: 'c' } } as unknown as Resource), /Expected an array at Observation\.category/);
  });

  it('ignores comments, XML declaration, BOM and foreign-namespace attributes', () => {
    const xml =
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- leading --><Patient xmlns="http://hl7.org/fhir" xmlns:nts="http://nictiz.nl/xsl/testscript" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x">' +
      '<!-- c --><id value="p1" nts:in-targets="x"/><active value="true"/><!-- trailing --></Patient>\n<!-- after -->\n';
    assert.deepEqual(parseFhirXml(xml), { resourceType: 'Patient', id: 'p1', active: true });
  });

  it('accepts prefixed FHIR element names', () => {
    const r = parseFhirXml('<f:Patient xmlns:f="http://hl7.org/fhir"><f:id value="p"/><f:active value="false"/></f:Patient>');
    assert.deepEqual(r, { resourceType: 'Patient', id: 'p', active: false });
  });
});

describe('Nictiz TestScript R5 constructs', () => {
  const script = (inner: string) =>
    `<TestScript xmlns="http://hl7.org/fhir"><url value="u"/><name value="n"/><status value="active"/>${inner}</TestScript>`;

  it('maps assert.stopTestOnFail to the R5 cross-version extension and profile@value to profile.reference', () => {
    const r = parseFhirXml(
      script(
        '<profile id="Bundle-profile" value="http://hl7.org/fhir/StructureDefinition/Bundle"/>' +
          '<test><action><assert><direction value="response"/><responseCode value="200"/><stopTestOnFail value="true"/><warningOnly value="false"/></assert></action></test>',
      ),
    ) as unknown as { profile: unknown; test: { action: { assert: Record<string, unknown> }[] }[] };
    assert.deepEqual(r.profile, [{ id: 'Bundle-profile', reference: 'http://hl7.org/fhir/StructureDefinition/Bundle' }]);
    assert.deepEqual(r.test[0].action[0].assert, {
      direction: 'response',
      responseCode: '200',
      extension: [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-TestScript.setup.action.assert.stopTestOnFail', valueBoolean: true }],
      warningOnly: false,
    });
  });

  it('does not map them elsewhere', () => {
    expectBadRequest(() => parseFhirXml(obs('<stopTestOnFail value="true"/>')), /Unknown element 'stopTestOnFail' at Observation/);
    expectBadRequest(() => parseFhirXml(obs('<subject value="Patient/1"/>')), /Unknown attribute 'value' on Observation\.subject/);
    expectBadRequest(
      () => parseFhirXml(script('<test><action><assert><stopTestOnFail value="maybe"/></assert></action></test>')),
      /Unknown element 'stopTestOnFail'/,
    );
  });
});

describe('narrative xhtml', () => {
  const div = '<div xmlns="http://www.w3.org/1999/xhtml">\n  <p class="a">Tom &amp; Jerry &lt;3 <b>bold</b><br/></p>\n  <!-- note -->\n</div>';

  it('carries the div verbatim in both directions', () => {
    const xml = `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>${div}</text></Patient>`;
    const r = parseFhirXml(xml) as { text?: { div: string } };
    assert.equal(r.text?.div, div);
    assert.ok(toFhirXml(r as Resource).includes(div));
    assert.ok(toFhirXml(r as Resource, { pretty: true }).includes(div));
  });

  it('keeps carriage returns of a JSON div through XML (they are written raw, read back raw)', () => {
    const d = '<div xmlns="http://www.w3.org/1999/xhtml"><p title="a\r\nb">x\r\ny</p></div>';
    const r = { resourceType: 'Patient', text: { status: 'generated', div: d } } as Resource;
    assert.deepEqual(parseFhirXml(toFhirXml(r)), r);
  });

  it('re-serialises a div that relies on a prefix declared outside it', () => {
    const xml =
      '<Patient xmlns="http://hl7.org/fhir" xmlns:h="http://www.w3.org/1999/xhtml"><text><status value="generated"/><h:div><h:p xml:lang="nl">a &amp; b</h:p></h:div></text></Patient>';
    const r = parseFhirXml(xml) as { text?: { div: string } };
    assert.equal(r.text?.div, '<div xmlns="http://www.w3.org/1999/xhtml"><p xml:lang="nl">a &amp; b</p></div>');
  });

  it('adds the XHTML namespace to a JSON div without one, and rejects malformed or non-div narrative', () => {
    const text = (d: string) => ({ resourceType: 'Patient', text: { status: 'generated', div: d } }) as Resource;
    assert.match(toFhirXml(text('<div><p>x</p></div>')), /<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"><p>x<\/p><\/div>/);
    expectBadRequest(() => toFhirXml(text('<div><p>x</div>')), /Invalid XHTML at Patient\.text\.div/);
    expectBadRequest(() => toFhirXml(text('<p>x</p>')), /Patient\.text\.div must be a <div>/);
    expectBadRequest(
      () => parseFhirXml('<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div><p>x</p></div></text></Patient>'),
      /Patient\.text\.div must be in the XHTML namespace/,
    );
  });
});

describe('bad input', () => {
  it('reports malformed XML with a position', () => {
    expectBadRequest(() => parseFhirXml('<Patient xmlns="http://hl7.org/fhir"><id value="x"></Patient>'), /Malformed XML at line 1.*does not match <id>/);
    expectBadRequest(() => parseFhirXml('<Patient xmlns="http://hl7.org/fhir">\n<id value="x/>'), /Malformed XML at line 2/);
    expectBadRequest(() => parseFhirXml('<Patient xmlns="http://hl7.org/fhir"><id value="a &nbsp; b"/></Patient>'), /undefined entity &nbsp;/);
    expectBadRequest(() => parseFhirXml(''), /no root element/);
    expectBadRequest(() => parseFhirXml('{"resourceType":"Patient"}'), /text before the root element/);
    expectBadRequest(() => parseFhirXml('<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>'), /second root element/);
    expectBadRequest(() => parseFhirXml('<Patient xmlns="http://hl7.org/fhir"><id value="a" value="b"/></Patient>'), /duplicate attribute value/);
  });

  it('bounds nesting depth in both directions (no stack overflow on hostile input)', () => {
    const n = 5000;
    const deepXml = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(n)}${'</extension>'.repeat(n)}</Patient>`;
    expectBadRequest(() => parseFhirXml(deepXml), /nested deeper than 512 levels/);
    let ext: Record<string, unknown> = { url: 'u', valueString: 'x' };
    for (let i = 0; i < n; i++) ext = { url: 'u', extension: [ext] };
    expectBadRequest(() => toFhirXml({ resourceType: 'Patient', extension: [ext] } as Resource), /nested deeper than 512 levels/);
    // Legitimately deep content (well below the bound) is fine.
    let ok: Record<string, unknown> = { url: 'u', valueString: 'x' };
    for (let i = 0; i < 100; i++) ok = { url: 'u', extension: [ok] };
    const r = { resourceType: 'Patient', extension: [ok] } as Resource;
    assert.deepEqual(parseFhirXml(toFhirXml(r)), r);
  });

  it('refuses DOCTYPE (no entity expansion)', () => {
    expectBadRequest(
      () => parseFhirXml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"><id value="&a;"/></Patient>'),
      /DOCTYPE declarations are not allowed/,
    );
  });

  it('rejects a wrong root element', () => {
    expectBadRequest(() => parseFhirXml('<Patient><id value="x"/></Patient>'), /not in the FHIR namespace/);
    expectBadRequest(() => parseFhirXml('<Foo xmlns="http://hl7.org/fhir"/>'), /<Foo> is not a FHIR resource type/);
    expectBadRequest(() => parseFhirXml('<DomainResource xmlns="http://hl7.org/fhir"/>'), /not a FHIR resource type/);
  });

  it('names the path of unknown elements and attributes', () => {
    expectBadRequest(() => parseFhirXml(obs('<code><coding><sytem value="x"/></coding></code>')), /Unknown element 'sytem' at Observation\.code\.coding/);
    expectBadRequest(() => parseFhirXml(obs('<value value="1"/>')), /Unknown element 'value' at Observation/);
    expectBadRequest(() => parseFhirXml(obs('<status value="final" foo="1"/>')), /Unknown attribute 'foo' on Observation\.status/);
    expectBadRequest(() => parseFhirXml(obs('<x:status xmlns:x="urn:other" value="final"/>')), /Unknown element 'x:status' \(namespace 'urn:other'\)/);
    expectBadRequest(() => parseFhirXml(obs('<status value="final">text</status>')), /Unexpected text content in Observation\.status/);
    expectBadRequest(() => toFhirXml({ resourceType: 'Observation', stauts: 'final' } as unknown as Resource), /Unknown property 'stauts' at Observation/);
    expectBadRequest(() => toFhirXml({ resourceType: 'Observation', _code: {} } as unknown as Resource), /Unknown property '_code'/);
    expectBadRequest(() => toFhirXml({ resourceType: 'Nope' } as unknown as Resource), /Unknown or missing resourceType/);
    expectBadRequest(
      () => toFhirXml({ resourceType: 'Observation', valueString: 'a', valueBoolean: true } as unknown as Resource),
      /Only one of valueString and valueBoolean/,
    );
  });
});
