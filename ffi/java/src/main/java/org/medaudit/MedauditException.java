package org.medaudit;

/**
 * An error of libmedaudit: the C status code ({@link #status()}), the error class
 * ({@link #kind()}) and the message, which names the rule id, knowledge table, claims table,
 * column, row or JSON path at fault.
 *
 * <p>Status codes are those of {@code include/medaudit.h} ({@code MedauditStatus}); the constants
 * below repeat them. Kinds are the shared error classes of every binding: for errors of the rule
 * engine {@code "pack_json"}, {@code "rule"}, {@code "pack"}, {@code "knowledge"},
 * {@code "column"}, {@code "value"}, {@code "argument"}; for errors of the boundary
 * {@code "null_pointer"}, {@code "invalid_argument"}, {@code "invalid_handle"},
 * {@code "invalid_utf8"}, {@code "json"}, {@code "arrow"}, {@code "internal"}.
 */
public class MedauditException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A required argument was missing (NULL in C). */
    public static final int NULL_POINTER = 1;
    /** An argument is out of range or inconsistent (unknown stage or rule id, …). */
    public static final int INVALID_ARGUMENT = 2;
    /** The engine is closed (or the handle is not a live engine). */
    public static final int INVALID_HANDLE = 3;
    /** Text that must be UTF-8 is not. */
    public static final int INVALID_UTF8 = 4;
    /** A JSON argument is not JSON or does not have the documented shape. */
    public static final int INVALID_JSON = 5;
    /** The rule pack is invalid. */
    public static final int PACK_ERROR = 6;
    /** A knowledge table is invalid. */
    public static final int KNOWLEDGE_ERROR = 7;
    /** A claims column is missing or has a type medaudit cannot read. */
    public static final int COLUMN_ERROR = 8;
    /** A value a rule needs is missing or invalid. */
    public static final int VALUE_ERROR = 9;
    /** Arrow data could not be read. */
    public static final int ARROW_ERROR = 10;
    /** An internal error (a caught panic): a bug of medaudit. */
    public static final int INTERNAL = 11;

    private final int status;
    private final String kind;

    /**
     * Called by the native library (and by the binding for a closed engine).
     *
     * @param status the C status code
     * @param kind the error class
     * @param message the message
     */
    public MedauditException(int status, String kind, String message) {
        super(message);
        this.status = status;
        this.kind = kind == null ? "" : kind;
    }

    /** @return the C status code ({@code MedauditStatus}), never 0 */
    public int status() {
        return status;
    }

    /** @return the error class, e.g. {@code "rule"} or {@code "invalid_handle"} */
    public String kind() {
        return kind;
    }

    @Override
    public String toString() {
        return "MedauditException[status=" + status + ", kind=" + kind + "]: " + getMessage();
    }
}
