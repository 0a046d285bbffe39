package org.medaudit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JNI functions of libmedaudit ({@code ffi/src/jni.rs}) and the loading of the library.
 *
 * <p>Loading: {@code System.loadLibrary("medaudit")} (from {@code java.library.path}); when that
 * fails, the copy bundled in the jar at {@code /native/linux-x86_64/libmedaudit.so} is unpacked
 * to a temporary file (deleted on exit) and loaded with {@code System.load}. Set the system
 * property {@code medaudit.library} to an absolute path to load that file instead.
 */
final class Native {
    private Native() {}

    static final String RESOURCE = "/native/linux-x86_64/libmedaudit.so";

    static {
        load();
    }

    /** Forces the class (and so the library) to load. */
    static void ensureLoaded() {}

    private static void load() {
        String explicit = System.getProperty("medaudit.library");
        if (explicit != null && !explicit.isEmpty()) {
            System.load(explicit);
            return;
        }
        UnsatisfiedLinkError first;
        try {
            System.loadLibrary("medaudit");
            return;
        } catch (UnsatisfiedLinkError e) {
            first = e;
        }
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsatisfiedLinkError("libmedaudit is not on java.library.path and the jar bundles only "
                    + "linux-x86_64 (this is " + os + "/" + arch + "): " + first.getMessage());
        }
        try (InputStream in = Native.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("libmedaudit is not on java.library.path (" + first.getMessage()
                        + ") and the jar has no " + RESOURCE);
            }
            Path tmp = Files.createTempFile("libmedaudit", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
        } catch (IOException e) {
            UnsatisfiedLinkError err = new UnsatisfiedLinkError("cannot unpack " + RESOURCE + ": " + e);
            err.initCause(e);
            throw err;
        }
    }

    static native String version();

    static native byte[] samplePack();

    static native long engineNew(byte[] pack, byte[] knowledgeOrNull);

    static native void engineFree(long handle);

    static native byte[] checkJson(long handle, byte[] request);

    static native byte[] checkClaimsJson(long handle, byte[] claims, byte[] optionsOrNull);

    static native void checkArrow(long handle, long fee, long mdtrt, long diagnoses, long operations,
            byte[] optionsOrNull, long out);

    static native boolean claimsJsonToArrow(byte[] claims, byte[] table, long out);
}
