// XMP sidecar: dc:description (x-default language) and, for keywords, dc:subject, as exiftool,
// digiKam, darktable and Lightroom read them.

// XML 1.0 allows tab, LF, CR and everything from U+0020 except lone surrogates, U+FFFE, U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(value: string): string {
  return value
    .replace(NOT_XML_CHAR, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function renderXmp(description: string, keywords?: readonly string[]): string {
  const subject =
    keywords && keywords.length > 0
      ? [
          '   <dc:subject>',
          '    <rdf:Bag>',
          ...keywords.map((k) => `     <rdf:li>${xmlText(k)}</rdf:li>`),
          '    </rdf:Bag>',
          '   </dc:subject>',
        ]
      : [];
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="llava-desk">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/">',
    '   <xmp:CreatorTool>llava-desk</xmp:CreatorTool>',
    '   <dc:description>',
    '    <rdf:Alt>',
    `     <rdf:li xml:lang="x-default">${xmlText(description)}</rdf:li>`,
    '    </rdf:Alt>',
    '   </dc:description>',
    ...subject,
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
    '',
  ].join('\n');
}
