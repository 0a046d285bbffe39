package org.medaudit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The batch call over Arrow Java ({@code medaudit_check_arrow}) through the Arrow C Data
 * Interface ({@code org.apache.arrow:arrow-c-data}, an optional dependency: add it to use this
 * class). Claims go in as {@link VectorSchemaRoot}s with the canonical national column names
 * (see {@code include/medaudit.h}); their buffers are handed to libmedaudit by address, not
 * copied. Findings come back as a {@link VectorSchemaRoot} allocated from the given allocator,
 * with the findings schema (finding_id, rule_id, rule_code, rule_name, template, severity,
 * warn_level (UInt8), psn_no, mdtrt_id, fixmedins_code, feedetl_sn, item_code, item_name,
 * bilg_dept_codg, related_feedetl_sn, amount (Float64), message, kp_id, basis). Dictionary-encoded
 * input vectors are not supported by this helper (decode them first).
 */
public final class ArrowCheck {
    private ArrowCheck() {}

    /**
     * Checks claims given as Arrow data.
     *
     * @param engine the engine
     * @param allocator allocates the export structures and the returned findings
     * @param feeDetails the fee lines (required)
     * @param mdtrt the encounters, or {@code null} for none
     * @param diagnoses the diagnoses, or {@code null} for "no such table"
     * @param operations the operations, or {@code null} for "no such table"
     * @param optionsJson {@code null} or {@code {"stage", "rule_ids", "column_map", "validate"}}
     * @return the findings; the caller closes it
     * @throws NullPointerException if {@code engine}, {@code allocator} or {@code feeDetails} is null
     * @throws MedauditException as {@code medaudit_check_arrow} (COLUMN_ERROR, ARROW_ERROR, …)
     */
    public static VectorSchemaRoot check(Engine engine, BufferAllocator allocator, VectorSchemaRoot feeDetails,
            VectorSchemaRoot mdtrt, VectorSchemaRoot diagnoses, VectorSchemaRoot operations, String optionsJson) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(allocator, "allocator");
        Objects.requireNonNull(feeDetails, "feeDetails");
        for (VectorSchemaRoot r : new VectorSchemaRoot[] {feeDetails, mdtrt, diagnoses, operations}) {
            if (r != null) {
                refuseDictionaries(r.getSchema());
            }
        }
        long handle = engine.handle();
        byte[] options = optionsJson == null ? null : optionsJson.getBytes(StandardCharsets.UTF_8);
        VectorSchemaRoot[] roots = {feeDetails, mdtrt, diagnoses, operations};
        List<ArrowArrayStream> inputs = new ArrayList<>();
        long[] addresses = new long[4];
        try (ArrowArrayStream out = ArrowArrayStream.allocateNew(allocator)) {
            try {
                for (int i = 0; i < roots.length; i++) {
                    if (roots[i] == null) {
                        continue;
                    }
                    ArrowArrayStream s = ArrowArrayStream.allocateNew(allocator);
                    inputs.add(s);
                    Data.exportArrayStream(allocator, new RootReader(allocator, roots[i]), s);
                    addresses[i] = s.memoryAddress();
                }
                // The library takes every input stream (and releases it), whatever the outcome.
                Native.checkArrow(handle, addresses[0], addresses[1], addresses[2], addresses[3], options,
                        out.memoryAddress());
            } finally {
                for (ArrowArrayStream s : inputs) {
                    s.release(); // a no-op for the streams the library took
                    s.close();
                }
                engine.keepAlive();
            }
            return importOne(allocator, out);
        }
    }

    /**
     * One table of claims JSON (the form of {@link Engine#checkClaimsJson}) as Arrow data with the
     * canonical types, as {@code medaudit_claims_json_to_arrow} makes it; for hosts and tests
     * without their own converter.
     *
     * @param allocator allocates the result
     * @param claimsJson the claims document (the whole document is validated)
     * @param table "mdtrt", "diagnoses", "operations" or "fee_details"
     * @return the table, or {@code null} when the document has no such table; the caller closes it
     */
    public static VectorSchemaRoot claimsJsonToArrow(BufferAllocator allocator, String claimsJson, String table) {
        Objects.requireNonNull(allocator, "allocator");
        Objects.requireNonNull(claimsJson, "claimsJson");
        Objects.requireNonNull(table, "table");
        Native.ensureLoaded();
        try (ArrowArrayStream out = ArrowArrayStream.allocateNew(allocator)) {
            boolean present = Native.claimsJsonToArrow(claimsJson.getBytes(StandardCharsets.UTF_8),
                    table.getBytes(StandardCharsets.UTF_8), out.memoryAddress());
            return present ? importOne(allocator, out) : null;
        }
    }

    /** The schema metadata key of the unjudged report in a findings root. */
    public static final String UNJUDGED_METADATA_KEY = "medaudit.unjudged";

    /**
     * What the rules of the check that returned {@code findings} could not judge (a null sex, a
     * missing time…), as the JSON text the library put in the findings schema's metadata: an
     * array of {@code {"rule_id", "reason", "count"}}, {@code []} when every line was judged. The
     * same report as the {@code "unjudged"} of {@link Engine#checkClaimsJson}.
     *
     * <pre>{@code
     * try (VectorSchemaRoot findings = ArrowCheck.check(engine, alloc, fee, mdtrt, null, null, null)) {
     *     String unjudged = ArrowCheck.unjudgedJson(findings); // e.g. [{"rule_id":"sex","reason":"gend is null","count":3}]
     * }
     * }</pre>
     *
     * @param findings a root returned by {@link #check}
     * @return the JSON text
     * @throws NullPointerException if {@code findings} is null
     * @throws MedauditException (ARROW_ERROR) if the root carries no report (it was not made by {@link #check})
     */
    public static String unjudgedJson(VectorSchemaRoot findings) {
        Objects.requireNonNull(findings, "findings");
        java.util.Map<String, String> meta = findings.getSchema().getCustomMetadata();
        String json = meta == null ? null : meta.get(UNJUDGED_METADATA_KEY);
        if (json == null) {
            throw new MedauditException(MedauditException.ARROW_ERROR, "arrow",
                    "the findings schema has no " + UNJUDGED_METADATA_KEY + " metadata: not a root made by ArrowCheck.check");
        }
        return json;
    }

    /** Reads a stream of (at most) one batch into a root of its own. */
    private static VectorSchemaRoot importOne(BufferAllocator allocator, ArrowArrayStream stream) {
        try (ArrowReader reader = Data.importArrayStream(allocator, stream)) {
            VectorSchemaRoot src = reader.getVectorSchemaRoot();
            refuseDictionaries(src.getSchema());
            VectorSchemaRoot dst = VectorSchemaRoot.create(src.getSchema(), allocator);
            if (reader.loadNextBatch()) {
                for (int i = 0; i < src.getFieldVectors().size(); i++) {
                    FieldVector from = src.getVector(i);
                    from.makeTransferPair(dst.getVector(i)).transfer();
                }
                dst.setRowCount(src.getRowCount());
                if (reader.loadNextBatch()) {
                    dst.close();
                    throw new MedauditException(MedauditException.ARROW_ERROR, "arrow",
                            "expected one record batch, got more");
                }
            } else {
                dst.setRowCount(0);
            }
            return dst;
        } catch (IOException e) {
            throw new MedauditException(MedauditException.ARROW_ERROR, "arrow", "importing Arrow data: " + e);
        }
    }

    /** Dictionary-encoded vectors live outside a VectorSchemaRoot; this helper does not carry them. */
    private static void refuseDictionaries(Schema schema) {
        for (org.apache.arrow.vector.types.pojo.Field f : schema.getFields()) {
            if (f.getDictionary() != null) {
                throw new MedauditException(MedauditException.INVALID_ARGUMENT, "invalid_argument", "column \""
                        + f.getName() + "\": dictionary-encoded vectors are not supported by ArrowCheck; decode them");
            }
        }
    }

    /** An ArrowReader giving one root as one batch, sharing its buffers (no copy). */
    private static final class RootReader extends ArrowReader {
        private final VectorSchemaRoot source;
        private boolean done;

        RootReader(BufferAllocator allocator, VectorSchemaRoot source) {
            super(allocator);
            this.source = source;
        }

        @Override
        public boolean loadNextBatch() throws IOException {
            if (done) {
                return false;
            }
            done = true;
            try (ArrowRecordBatch batch = new VectorUnloader(source).getRecordBatch()) {
                loadRecordBatch(batch);
            }
            return true;
        }

        @Override
        public long bytesRead() {
            return 0;
        }

        @Override
        protected void closeReadSource() {}

        @Override
        protected Schema readSchema() {
            return source.getSchema();
        }
    }
}
