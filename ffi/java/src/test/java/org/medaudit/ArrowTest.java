package org.medaudit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The batch call through Arrow Java and the C Data Interface: every conformance vector's claims,
 * made into VectorSchemaRoots, checked with {@link ArrowCheck#check}, give the expected findings
 * (or error) and the same findings as the JSON call, with no leaked Arrow memory.
 */
class ArrowTest {
    static final String[] TABLES = {"fee_details", "mdtrt", "diagnoses", "operations"};

    static ArrayNode rows(VectorSchemaRoot root) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (int r = 0; r < root.getRowCount(); r++) {
            ObjectNode row = out.addObject();
            for (FieldVector v : root.getFieldVectors()) {
                String name = v.getField().getName();
                if (v.isNull(r)) {
                    row.putNull(name);
                } else if (v instanceof UInt1Vector) {
                    row.put(name, ((UInt1Vector) v).getValueAsLong(r));
                } else if (v instanceof Float8Vector) {
                    row.put(name, ((Float8Vector) v).get(r));
                } else {
                    row.put(name, v.getObject(r).toString());
                }
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> vectorsThroughArrow() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(ConformanceTest.vectorDir())) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().collect(Collectors.toList());
        }
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> run(p)));
    }

    static void run(Path path) throws IOException {
        ConformanceTest.Vector v = ConformanceTest.read(path);
        ObjectNode options = v.options.deepCopy();
        if (v.claims.isObject() && v.claims.get("column_map") != null && v.claims.get("column_map").isObject()) {
            options.set("column_map", v.claims.get("column_map"));
        }
        String claims = Json.write(v.claims);
        try (BufferAllocator alloc = new RootAllocator()) {
            VectorSchemaRoot[] roots = new VectorSchemaRoot[TABLES.length];
            try (Engine engine = v.engine()) {
                for (int i = 0; i < TABLES.length; i++) {
                    roots[i] = ArrowCheck.claimsJsonToArrow(alloc, claims, TABLES[i]);
                }
                if (roots[0] == null) {
                    // No fee_details table: the batch call needs one (as in C, a NULL_POINTER error).
                    assertThrows(NullPointerException.class,
                            () -> ArrowCheck.check(engine, alloc, null, null, null, null, null));
                    return;
                }
                JsonNode got;
                JsonNode unjudged;
                try (VectorSchemaRoot findings = ArrowCheck.check(engine, alloc, roots[0], roots[1], roots[2], roots[3],
                        Json.write(options))) {
                    got = rows(findings);
                    unjudged = Json.parse(ArrowCheck.unjudgedJson(findings));
                }
                ConformanceTest.compareFindings(got, v.expect);
                if (v.expect.has("unjudged")) {
                    assertTrue(Json.deepEquals(unjudged, v.expect.get("unjudged")),
                            "unjudged: expected " + v.expect.get("unjudged") + ", got " + unjudged);
                }
                // And the same as the JSON call, field by field, and the same unjudged report.
                JsonNode whole = Json.parse(engine.checkClaimsJson(claims, Json.write(v.options)));
                assertTrue(Json.deepEquals(unjudged, whole.get("unjudged")),
                        "unjudged: json " + whole.get("unjudged") + " arrow " + unjudged);
                JsonNode json = whole.get("findings");
                assertEquals(json.size(), got.size());
                for (int i = 0; i < got.size(); i++) {
                    for (var it = got.get(i).fields(); it.hasNext(); ) {
                        var f = it.next();
                        assertTrue(Json.same(json.get(i).get(f.getKey()), f.getValue()),
                                "finding " + i + " " + f.getKey() + ": json " + json.get(i).get(f.getKey()) + " arrow "
                                        + f.getValue());
                    }
                }
            } catch (MedauditException e) {
                Assumptions.assumeFalse(e.getMessage().contains("dictionary-encoded vectors are not supported"),
                        "dictionary-encoded columns are not carried by ArrowCheck: " + e.getMessage());
                ConformanceTest.compareError(e, v.expect);
            } finally {
                for (VectorSchemaRoot r : roots) {
                    if (r != null) {
                        r.close();
                    }
                }
            }
            assertEquals(0, alloc.getAllocatedMemory(), "Arrow memory leaked");
        }
    }

    @Test
    void closedEngineAndBadData() {
        try (BufferAllocator alloc = new RootAllocator()) {
            Engine engine = Engine.sample();
            String claims = "{\"mdtrt\": [], \"fee_details\": [{\"feedetl_sn\": \"L1\", \"mdtrt_id\": \"M\"}]}";
            try (VectorSchemaRoot fee = ArrowCheck.claimsJsonToArrow(alloc, claims, "fee_details")) {
                // A fee table without the required columns: a column error, not a crash.
                MedauditException e = assertThrows(MedauditException.class,
                        () -> ArrowCheck.check(engine, alloc, fee, null, null, null, null).close());
                assertTrue(e.status() > 0, e.toString());
                MedauditException o = assertThrows(MedauditException.class,
                        () -> ArrowCheck.check(engine, alloc, fee, null, null, null, "{\"stage\": 1}").close());
                assertEquals(MedauditException.INVALID_JSON, o.status(), o.toString());
                engine.close();
                MedauditException c = assertThrows(MedauditException.class,
                        () -> ArrowCheck.check(engine, alloc, fee, null, null, null, null).close());
                assertEquals(MedauditException.INVALID_HANDLE, c.status());
            }
            // A root the library did not return from a check carries no unjudged report.
            try (VectorSchemaRoot fee = ArrowCheck.claimsJsonToArrow(alloc, claims, "fee_details")) {
                MedauditException u = assertThrows(MedauditException.class, () -> ArrowCheck.unjudgedJson(fee));
                assertEquals(MedauditException.ARROW_ERROR, u.status(), u.toString());
                assertTrue(u.getMessage().contains("medaudit.unjudged"), u.getMessage());
            }
            assertThrows(NullPointerException.class, () -> ArrowCheck.unjudgedJson(null));
            MedauditException j = assertThrows(MedauditException.class,
                    () -> ArrowCheck.claimsJsonToArrow(alloc, "{", "fee_details"));
            assertEquals(MedauditException.INVALID_JSON, j.status());
            assertEquals(0, alloc.getAllocatedMemory(), "Arrow memory leaked");
        }
    }
}
