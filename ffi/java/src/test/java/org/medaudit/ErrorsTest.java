package org.medaudit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad inputs raise the documented exceptions; the JVM never crashes. */
class ErrorsTest {
    static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.sample();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static MedauditException expect(int status, String kind, Executable call) {
        MedauditException e = assertThrows(MedauditException.class, call);
        assertEquals(status, e.status(), e.toString());
        assertEquals(kind, e.kind(), e.toString());
        assertNotNull(e.getMessage());
        return e;
    }

    @Test
    void versionAndSample() {
        assertEquals("0.1.0", Engine.version());
        assertTrue(Engine.samplePackJson().contains("medaudit-pack/1"));
    }

    @Test
    void checkJsonWorks() {
        JsonNode r = Json.parse(engine.checkJson(Json.resource("prealert_request.json")));
        assertTrue(r.get("result").size() >= 1, r.toString());
        assertTrue(r.toString().contains("违规项"), r.toString());
    }

    @Test
    void packNotJson() {
        MedauditException e = expect(MedauditException.PACK_ERROR, "pack_json", () -> new Engine("{not json"));
        assertTrue(e.getMessage().length() > 0);
    }

    @Test
    void unknownTemplate() {
        String pack = "{\"format\": \"medaudit-pack/1\", \"id\": \"p\", \"rules\": [{\"id\": \"R1\", \"name\": \"x\", "
                + "\"severity\": \"可疑\", \"template\": \"nope\"}]}";
        MedauditException e = expect(MedauditException.PACK_ERROR, "rule", () -> new Engine(pack));
        assertTrue(e.getMessage().contains("unknown template \"nope\""), e.getMessage());
    }

    @Test
    void knowledgeNotJson() {
        expect(MedauditException.INVALID_JSON, "json", () -> new Engine(Engine.samplePackJson(), "[1,"));
        expect(MedauditException.INVALID_JSON, "json", () -> new Engine(Engine.samplePackJson(), "[]"));
    }

    @Test
    void requestNotJson() {
        expect(MedauditException.INVALID_JSON, "json", () -> engine.checkJson(""));
        expect(MedauditException.INVALID_JSON, "json", () -> engine.checkJson("{\"data\": {\"trig_scen\": "));
        String bad = Json.resource("prealert_request.json").replace("\"cnt\": 2", "\"cnt\": \"two\"");
        MedauditException e = assertThrows(MedauditException.class, () -> engine.checkJson(bad));
        assertEquals(MedauditException.INVALID_JSON, e.status(), e.toString());
        assertTrue(e.getMessage().contains("fsi_order_dtos[0].cnt"), e.getMessage());
    }

    @Test
    void claimsAndOptions() {
        expect(MedauditException.INVALID_JSON, "json", () -> engine.checkClaimsJson("nope"));
        expect(MedauditException.INVALID_JSON, "json", () -> engine.checkClaimsJson("{}", "{"));
        expect(MedauditException.INVALID_ARGUMENT, "invalid_argument",
                () -> engine.checkClaimsJson("{}", "{\"stage\": \"never\"}"));
        MedauditException e = assertThrows(MedauditException.class,
                () -> engine.checkClaimsJson("{}", "{\"rule_ids\": [\"no-such-rule\"]}"));
        assertEquals(MedauditException.INVALID_ARGUMENT, e.status(), e.toString());
        JsonNode ok = Json.parse(engine.checkClaimsJson("{\"mdtrt\": [], \"fee_details\": []}", null));
        assertEquals(0, ok.get("findings").size());
    }

    @Test
    void nullArgumentsThrowNullPointerException() {
        assertThrows(NullPointerException.class, () -> new Engine(null));
        assertThrows(NullPointerException.class, () -> new Engine(null, "{}"));
        assertThrows(NullPointerException.class, () -> engine.checkJson(null));
        assertThrows(NullPointerException.class, () -> engine.checkClaimsJson(null, null));
        // Optional arguments: null means "none".
        try (Engine e = new Engine(Engine.samplePackJson(), null)) {
            assertNotNull(e.checkClaimsJson("{}", null));
        }
    }

    @Test
    void nativeNullsAreExceptionsToo() {
        // The JNI layer itself never trusts its caller: null arrays and made-up handles throw.
        expect(MedauditException.NULL_POINTER, "null_pointer", () -> Native.engineNew(null, null));
        expect(MedauditException.NULL_POINTER, "null_pointer", () -> Native.checkJson(engine.handle(), null));
        expect(MedauditException.NULL_POINTER, "null_pointer", () -> Native.checkJson(0, new byte[0]));
        expect(MedauditException.INVALID_HANDLE, "invalid_handle", () -> Native.checkJson(12345, new byte[0]));
        expect(MedauditException.INVALID_HANDLE, "invalid_handle", () -> Native.engineFree(-8));
        expect(MedauditException.INVALID_UTF8, "invalid_utf8",
                () -> Native.checkJson(engine.handle(), new byte[] {'{', (byte) 0xff, '}'}));
    }

    @Test
    void oddTextNeverCrashes() {
        String[] inputs = {"\0", "\ud800", "{\"data\": \"\ud800\"}", "[]", "null", "1e999999", "{\"data\": {}}",
            "{\"data\": {\"trig_scen\": \"1\", \"patient_dtos\": [{}]}}", "\"" + "x".repeat(100000) + "\""};
        for (String s : inputs) {
            try {
                engine.checkJson(s);
            } catch (MedauditException e) {
                assertTrue(e.status() > 0);
            }
            try {
                engine.checkClaimsJson(s, s);
            } catch (MedauditException e) {
                assertTrue(e.status() > 0);
            }
        }
        String deep = "[".repeat(100000) + "]".repeat(100000);
        assertThrows(MedauditException.class, () -> engine.checkJson(deep));
        assertThrows(MedauditException.class, () -> engine.checkClaimsJson(deep));
    }
}
