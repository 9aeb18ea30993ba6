package dev.warden.kinds;

import java.io.ByteArrayInputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Counts passed, failed and skipped test cases in JUnit XML reports ({@code <testsuite>} or
 * {@code <testsuites>}, as written by Surefire, pytest, Gradle, Go's go-junit-report…). The parser
 * refuses DOCTYPEs and external entities: a report is written by the code under test.
 */
final class JUnitReports {
    record Counts(int passed, int failed, int skipped) {
        Counts plus(Counts o) {
            return new Counts(passed + o.passed, failed + o.failed, skipped + o.skipped);
        }
    }

    private JUnitReports() {}

    static Counts parse(byte[] xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        DocumentBuilder b = f.newDocumentBuilder();
        b.setErrorHandler(null);
        NodeList cases = b.parse(new ByteArrayInputStream(xml)).getElementsByTagName("testcase");
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        for (int i = 0; i < cases.getLength(); i++) {
            Element c = (Element) cases.item(i);
            if (has(c, "failure") || has(c, "error")) {
                failed++;
            } else if (has(c, "skipped")) {
                skipped++;
            } else {
                passed++;
            }
        }
        return new Counts(passed, failed, skipped);
    }

    private static boolean has(Element e, String child) {
        for (org.w3c.dom.Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(child)) {
                return true;
            }
        }
        return false;
    }
}
