package org.medaudit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Many Java threads share one engine: 16 threads × N checkJson calls (N = 10,000 by default;
 * -Dmedaudit.threads.iterations=N to change it), every answer identical to the single-threaded
 * one, and resident memory stable (growth bounded after a warm-up).
 */
class ThreadsTest {
    static final int THREADS = 16;

    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            // not Linux: no memory check
        }
        return -1;
    }

    /** Runs THREADS threads, each making {@code n} calls, checking every answer. */
    static void round(Engine engine, String req, String expected, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Callable<Integer> job = () -> {
                    int same = 0;
                    for (int i = 0; i < n; i++) {
                        if (engine.checkJson(req).equals(expected)) {
                            same++;
                        }
                    }
                    return same;
                };
                futures.add(pool.submit(job));
            }
            for (Future<Integer> f : futures) {
                assertEquals(n, f.get().intValue());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void sixteenThreadsOneEngine() throws Exception {
        int iterations = Integer.getInteger("medaudit.threads.iterations", 10_000);
        String req = Json.resource("prealert_request.json");
        try (Engine engine = Engine.sample()) {
            String expected = engine.checkJson(req);
            long t0 = System.nanoTime();
            // Two halves: the first warms up (heap, malloc arenas of 16 threads), the second must
            // not grow resident memory by more than a little (no leak per call).
            int first = iterations / 2;
            round(engine, req, expected, first);
            System.gc();
            long mid = rssKb();
            round(engine, req, expected, iterations - first);
            System.gc();
            long end = rssKb();
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("threads: %d x %d checkJson calls in %.1f s (%.0f calls/s); RSS after first half %d kB,"
                    + " after second half %d kB%n", THREADS, iterations, secs, THREADS * (double) iterations / secs, mid, end);
            if (mid > 0 && end > 0) {
                assertTrue(end - mid < 64 * 1024, "RSS grew from " + mid + " to " + end + " kB in the second half");
            }
        }
    }
}
