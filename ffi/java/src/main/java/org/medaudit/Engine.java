package org.medaudit;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A medaudit engine: a compiled rule pack (medaudit-pack/1 JSON) with its knowledge tables, over
 * libmedaudit through JNI.
 *
 * <p><b>Threads.</b> An engine is immutable: any number of threads may call {@link #checkJson}
 * and {@link #checkClaimsJson} on one engine at once. To load a new knowledge batch, build a new
 * engine, switch new calls to it, then close the old one; calls still running on the old one
 * finish normally.
 *
 * <p><b>Lifetime.</b> {@link #close()} frees the native engine; it is idempotent. Any call after
 * close throws {@link MedauditException} with status {@link MedauditException#INVALID_HANDLE}
 * (kind {@code "invalid_handle"}); it never crashes. An engine that is never closed is freed by a
 * {@link Cleaner} once unreachable (a safety net, not a substitute for try-with-resources).
 *
 * <p><b>Errors.</b> Every failure of the library is a {@link MedauditException} carrying the C
 * status code, the error class and the message; a {@code null} argument where a value is
 * required throws {@link NullPointerException} (before any native call). Optional arguments are
 * documented as such. Text crosses the boundary as UTF-8.
 */
public final class Engine implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /** The native handle, shared with the cleaning action; 0 once freed. */
    private static final class State implements Runnable {
        final AtomicLong handle;

        State(long handle) {
            this.handle = new AtomicLong(handle);
        }

        @Override
        public void run() {
            long h = handle.getAndSet(0);
            if (h != 0) {
                Native.engineFree(h);
            }
        }
    }

    private final State state;
    private final Cleaner.Cleanable cleanable;

    private Engine(long handle) {
        this.state = new State(handle);
        this.cleanable = CLEANER.register(this, state);
    }

    /**
     * Builds an engine from a rule pack whose knowledge tables are inline in the pack
     * ({@code medaudit_engine_new}).
     *
     * @param packJson the rule pack, JSON text (see {@link #samplePackJson()})
     * @throws NullPointerException if {@code packJson} is null
     * @throws MedauditException {@code PACK_ERROR} (invalid pack: kinds {@code pack_json},
     *     {@code rule}, {@code pack}), {@code KNOWLEDGE_ERROR}
     */
    public Engine(String packJson) {
        this(build(Objects.requireNonNull(packJson, "packJson"), null));
    }

    /**
     * Builds an engine from a rule pack plus knowledge tables given as JSON rows
     * ({@code medaudit_engine_new_with_knowledge_json}): {@code {"table": [{"code": "…", …}, …]}};
     * each table replaces the pack's inline rows of that name and must be declared in the pack.
     *
     * @param packJson the rule pack, JSON text
     * @param knowledgeJson the knowledge tables as JSON rows, or {@code null} for none
     * @throws NullPointerException if {@code packJson} is null
     * @throws MedauditException {@code PACK_ERROR}, {@code INVALID_JSON}, {@code KNOWLEDGE_ERROR}
     */
    public Engine(String packJson, String knowledgeJson) {
        this(build(Objects.requireNonNull(packJson, "packJson"), knowledgeJson));
    }

    /**
     * Same as {@link #Engine(String)}.
     *
     * @param packJson the rule pack, JSON text
     * @return a new engine
     */
    public static Engine fromPack(String packJson) {
        return new Engine(packJson);
    }

    /**
     * Same as {@link #Engine(String, String)}.
     *
     * @param packJson the rule pack, JSON text
     * @param knowledgeJson knowledge tables as JSON rows, or {@code null}
     * @return a new engine
     */
    public static Engine withKnowledgeJson(String packJson, String knowledgeJson) {
        return new Engine(packJson, knowledgeJson);
    }

    /** @return an engine of the bundled sample pack (every template, real national codes) */
    public static Engine sample() {
        return new Engine(samplePackJson());
    }

    /** @return the sample rule pack that ships with the library, as JSON text */
    public static String samplePackJson() {
        Native.ensureLoaded();
        return utf8(Native.samplePack());
    }

    /** @return the version of the loaded libmedaudit, e.g. "0.1.0" */
    public static String version() {
        Native.ensureLoaded();
        return Native.version();
    }

    private static long build(String packJson, String knowledgeJson) {
        Native.ensureLoaded();
        return Native.engineNew(bytes(packJson), knowledgeJson == null ? null : bytes(knowledgeJson));
    }

    /**
     * The pre-alert call (事前提醒 / 事中审核, {@code medaudit_check_json}): checks one request shaped
     * like the national 3101 input ({@code {"data": {"trig_scen": "1", "patient_dtos": […]}}}, the
     * envelope {@code {"input": {"data": …}}} or a bare data object) and answers JSON shaped like
     * the 3101 output: {@code {"result": [{"jr_id", "rule_id", …, "judge_result_detail_dtos":
     * […]}], "unjudged": [{"rule_id", "reason", "count"}]}}.
     *
     * @param request the 3101 request, JSON text
     * @return the 3101-shaped response, JSON text
     * @throws NullPointerException if {@code request} is null
     * @throws MedauditException {@code INVALID_JSON} (naming the JSON path),
     *     {@code INVALID_ARGUMENT} (unknown rule id), {@code VALUE_ERROR},
     *     {@code INVALID_HANDLE} (engine closed)
     */
    public String checkJson(String request) {
        Objects.requireNonNull(request, "request");
        byte[] in = bytes(request);
        try {
            return utf8(Native.checkJson(handle(), in));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Checks claims in medaudit's claims-JSON form ({@code medaudit_check_claims_json}):
     * {@code {"mdtrt": [rows], "diagnoses": [rows], "operations": [rows], "fee_details": [rows],
     * "types"?: {…}, "column_map"?: {…}}}, answering {@code {"findings": […], "unjudged": […]}}.
     *
     * @param claimsJson the claims, JSON text
     * @param optionsJson {@code null} (all rules of all stages) or a JSON object
     *     {@code {"stage": "事前"|"事中"|"事后", "rule_ids": ["…"], "column_map": {…}}}
     * @return the findings and unjudged rules, JSON text
     * @throws NullPointerException if {@code claimsJson} is null
     * @throws MedauditException {@code INVALID_JSON}, {@code INVALID_ARGUMENT},
     *     {@code COLUMN_ERROR}, {@code VALUE_ERROR}, {@code INVALID_HANDLE}
     */
    public String checkClaimsJson(String claimsJson, String optionsJson) {
        Objects.requireNonNull(claimsJson, "claimsJson");
        byte[] claims = bytes(claimsJson);
        byte[] options = optionsJson == null ? null : bytes(optionsJson);
        try {
            return utf8(Native.checkClaimsJson(handle(), claims, options));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * {@link #checkClaimsJson(String, String)} with no options.
     *
     * @param claimsJson the claims, JSON text
     * @return the findings and unjudged rules, JSON text
     */
    public String checkClaimsJson(String claimsJson) {
        return checkClaimsJson(claimsJson, null);
    }

    /** @return whether {@link #close()} has been called (or the cleaner has run) */
    public boolean isClosed() {
        return state.handle.get() == 0;
    }

    /**
     * Frees the native engine. Idempotent; safe from any thread, also while other threads are
     * inside calls on this engine (those calls finish normally).
     */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** The live handle, or a MedauditException(INVALID_HANDLE) when closed. */
    long handle() {
        long h = state.handle.get();
        if (h == 0) {
            throw new MedauditException(MedauditException.INVALID_HANDLE, "invalid_handle",
                    "engine: the engine is closed");
        }
        return h;
    }

    /** Keeps this engine reachable (and so not cleaned) up to the call; for package code. */
    void keepAlive() {
        Reference.reachabilityFence(this);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
