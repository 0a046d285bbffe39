package org.medaudit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every conformance vector in tests/conformance/*.json through {@link Engine#checkClaimsJson},
 * compared by the rules of tests/conformance/README.md exactly as tests/c/conformance.py does for
 * the C ABI's JSON call: findings same length and order, every listed key equal (numbers within
 * 0.005, a listed null must be null); unjudged equal when present; errors: kind equal and the
 * message containing every message_contains string.
 */
class ConformanceTest {
    static Path vectorDir() {
        String dir = System.getProperty("medaudit.conformance.dir", "../../tests/conformance");
        return Paths.get(dir);
    }

    @TestFactory
    Stream<DynamicTest> vectors() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(vectorDir())) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().collect(Collectors.toList());
        }
        assertTrue(files.size() >= 50, "expected the conformance vectors in " + vectorDir() + ", found " + files.size());
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> run(p)));
    }

    /** One vector, read and prepared as tests/c/conformance.py does. */
    static final class Vector {
        JsonNode expect;
        String pack;
        String knowledge;
        ObjectNode options;
        JsonNode claims;

        Engine engine() {
            return knowledge == null ? new Engine(pack) : new Engine(pack, knowledge);
        }
    }

    static Vector read(Path path) throws IOException {
        JsonNode v = Json.parse(new String(Files.readAllBytes(path), StandardCharsets.UTF_8));
        Vector out = new Vector();
        out.expect = v.hasNonNull("expect") ? v.get("expect") : Json.MAPPER.createObjectNode();
        JsonNode pack = v.get("pack");
        if (pack != null && pack.isTextual()) {
            out.pack = pack.asText().equals("sample") ? Engine.samplePackJson() : pack.asText();
        } else {
            out.pack = Json.write(pack);
        }
        JsonNode know = v.get("knowledge");
        out.knowledge = know != null && know.isObject() ? Json.write(know) : null;
        out.options = Json.MAPPER.createObjectNode();
        JsonNode o = v.get("options");
        if (o != null && o.isObject()) {
            for (String k : new String[] {"stage", "rule_ids"}) {
                if (o.hasNonNull(k)) {
                    out.options.set(k, o.get(k));
                }
            }
        }
        out.claims = v.hasNonNull("claims") ? v.get("claims") : Json.MAPPER.createObjectNode();
        return out;
    }

    static void run(Path path) throws IOException {
        Vector v = read(path);
        JsonNode result;
        try (Engine engine = v.engine()) {
            result = Json.parse(engine.checkClaimsJson(Json.write(v.claims), Json.write(v.options)));
        } catch (MedauditException e) {
            compareError(e, v.expect);
            return;
        }
        compareFindings(result.get("findings"), v.expect);
        if (v.expect.has("unjudged") && !Json.deepEquals(result.get("unjudged"), v.expect.get("unjudged"))) {
            fail("unjudged: expected " + v.expect.get("unjudged") + ", got " + result.get("unjudged"));
        }
    }

    static void compareError(MedauditException e, JsonNode expect) {
        JsonNode err = expect.get("error");
        if (err == null) {
            fail("unexpected error [" + e.kind() + "] (status " + e.status() + ") " + e.getMessage());
        }
        if (err.hasNonNull("kind") && !err.get("kind").asText().equals(e.kind())) {
            fail("expected error kind " + err.get("kind").asText() + ", got " + e.kind() + " (" + e.getMessage() + ")");
        }
        JsonNode parts = err.get("message_contains");
        if (parts != null && parts.isArray()) {
            for (JsonNode part : parts) {
                if (!String.valueOf(e.getMessage()).contains(part.asText())) {
                    fail("error message " + e.getMessage() + " does not contain " + part.asText());
                }
            }
        }
        assertTrue(e.status() > 0, "status " + e.status());
    }

    static void compareFindings(JsonNode got, JsonNode expect) {
        if (expect.has("error")) {
            fail("expected error " + expect.get("error") + ", got " + got.size() + " findings");
        }
        JsonNode want = expect.get("findings");
        if (want == null || !want.isArray()) {
            fail("expect.findings missing");
        }
        if (got.size() != want.size()) {
            fail("expected " + want.size() + " findings, got " + got.size() + ": " + got.toPrettyString());
        }
        for (int i = 0; i < want.size(); i++) {
            JsonNode g = got.get(i);
            for (var it = want.get(i).fields(); it.hasNext(); ) {
                var e = it.next();
                if (!Json.same(g.get(e.getKey()), e.getValue())) {
                    fail("finding " + i + ": " + e.getKey() + ": expected " + e.getValue() + ", got " + g.get(e.getKey())
                            + "\nfull: " + g);
                }
            }
        }
    }
}
