package org.medaudit;

import java.util.Arrays;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * A plain benchmark (not run by the tests) of the per-call latency of {@link Engine#checkJson}
 * (the 3101 request of examples/c/prealert.c) and of {@link ArrowCheck#check} (one encounter's
 * claims as VectorSchemaRoots), on one thread, after a warm-up. Prints p50/p99/mean in µs.
 *
 * <p>Run (after {@code mvn -q test-compile} and with a release build of libmedaudit):
 * <pre>
 * cd ffi/java
 * mvn -q dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -Xmx256m --add-opens=java.base/java.nio=ALL-UNNAMED -Djava.library.path=../../target/release \
 *   -cp target/classes:target/test-classes:$(cat target/cp.txt) org.medaudit.Bench [iterations]
 * </pre>
 */
public final class Bench {
    private Bench() {}

    interface Call {
        void run();
    }

    static void report(String name, int n, Call call) {
        for (int i = 0; i < Math.max(1000, n / 10); i++) {
            call.run();
        }
        long[] ns = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            call.run();
            ns[i] = System.nanoTime() - t;
        }
        Arrays.sort(ns);
        double mean = Arrays.stream(ns).average().orElse(0);
        System.out.printf("%-28s n=%d  p50 %.1f us  p99 %.1f us  mean %.1f us%n", name, n, ns[n / 2] / 1e3,
                ns[(int) (n * 0.99)] / 1e3, mean / 1e3);
    }

    static String readVector(String name) {
        try {
            return new String(java.nio.file.Files.readAllBytes(ConformanceTest.vectorDir().resolve(name)),
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        String req = Json.resource("prealert_request.json");
        // One vector's claims (t01_sex: the sample pack, one encounter).
        String claims = Json.write(Json.parse(readVector("t01_sex.json")).get("claims"));
        try (Engine engine = Engine.sample(); BufferAllocator alloc = new RootAllocator()) {
            report("checkJson (3101)", n, () -> engine.checkJson(req));
            report("checkClaimsJson", n, () -> engine.checkClaimsJson(claims, null));
            try (VectorSchemaRoot fee = ArrowCheck.claimsJsonToArrow(alloc, claims, "fee_details");
                    VectorSchemaRoot mdtrt = ArrowCheck.claimsJsonToArrow(alloc, claims, "mdtrt");
                    VectorSchemaRoot diag = ArrowCheck.claimsJsonToArrow(alloc, claims, "diagnoses")) {
                report("ArrowCheck.check (C Data)", n, () -> ArrowCheck.check(engine, alloc, fee, mdtrt, diag, null,
                        "{\"validate\": false}").close());
            }
        }
    }
}
