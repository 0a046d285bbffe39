package org.medaudit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** close is idempotent; any use after close throws; closing under load is safe. */
class LifecycleTest {
    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        Engine e = Engine.sample();
        String req = Json.resource("prealert_request.json");
        e.checkJson(req);
        assertFalse(e.isClosed());
        e.close();
        e.close();
        assertTrue(e.isClosed());
        MedauditException x = assertThrows(MedauditException.class, () -> e.checkJson(req));
        assertEquals(MedauditException.INVALID_HANDLE, x.status());
        assertEquals("invalid_handle", x.kind());
        x = assertThrows(MedauditException.class, () -> e.checkClaimsJson("{}", null));
        assertEquals(MedauditException.INVALID_HANDLE, x.status());
        e.close();
    }

    @Test
    void tryWithResources() {
        Engine kept;
        try (Engine e = Engine.sample()) {
            kept = e;
            assertTrue(e.checkJson(Json.resource("prealert_request.json")).contains("result"));
        }
        assertTrue(kept.isClosed());
    }

    @Test
    void closeWhileOtherThreadsCheck() throws Exception {
        String req = Json.resource("prealert_request.json");
        for (int round = 0; round < 5; round++) {
            Engine e = Engine.sample();
            int n = 8;
            CountDownLatch started = new CountDownLatch(n);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger closed = new AtomicInteger();
            AtomicReference<Throwable> bad = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                Thread th = new Thread(() -> {
                    started.countDown();
                    for (int i = 0; i < 2000; i++) {
                        try {
                            e.checkJson(req);
                            ok.incrementAndGet();
                        } catch (MedauditException x) {
                            if (x.status() != MedauditException.INVALID_HANDLE) {
                                bad.compareAndSet(null, x);
                            }
                            closed.incrementAndGet();
                            return;
                        } catch (Throwable x) {
                            bad.compareAndSet(null, x);
                            return;
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            started.await();
            Thread.sleep(5);
            e.close();
            for (Thread th : threads) {
                th.join();
            }
            if (bad.get() != null) {
                throw new AssertionError("unexpected failure", bad.get());
            }
            assertTrue(ok.get() + closed.get() > 0);
        }
    }

    @Test
    void cleanerFreesForgottenEngines() throws Exception {
        for (int i = 0; i < 200; i++) {
            Engine.sample().checkClaimsJson("{}", null);
        }
        System.gc();
        Thread.sleep(50);
        // Nothing to assert beyond "no crash": the cleaner frees the native engines.
    }
}
